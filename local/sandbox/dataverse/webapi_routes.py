"""Which handler serves a Web API path: functions (WhoAmI, RetrieveUserPrivileges), table definitions
(EntityDefinitions…), or the rows of an entity set. Anything else is Dataverse's 404."""

from __future__ import annotations

from . import errors, metadata_api, privileges
from .odata_path import Segment, parse_segment, split_path
from .webapi_entities import find_row, handle_rows
from .webapi_types import ApiRequest, ApiResponse

CRM = "Microsoft.Dynamics.CRM."


def route(req: ApiRequest) -> ApiResponse:
    parts = split_path(req.path)
    if not parts:
        return _service_document(req)
    segments = [parse_segment(p) for p in parts]
    first = segments[0]
    if first.name in ("WhoAmI", f"{CRM}WhoAmI") and len(segments) == 1 and req.method == "GET":
        return _who_am_i(req)
    if (
        first.name in ("RetrieveVersion", f"{CRM}RetrieveVersion")
        and len(segments) == 1
        and req.method == "GET"
    ):
        # Learn, Web API reference "RetrieveVersion Function": the release the organisation runs
        return ApiResponse(
            200,
            {
                "@odata.context": f"{req.api_url}$metadata#{CRM}RetrieveVersionResponse",
                "Version": req.env.product_version,
            },
        )
    if first.name in ("ReactivateEntityKey", f"{CRM}ReactivateEntityKey") and req.method == "POST":
        return metadata_api.reactivate_key(req)
    if first.name in ("EntityDefinitions", "GlobalOptionSetDefinitions", "RelationshipDefinitions"):
        return metadata_api.handle(req, segments)
    table = req.env.table_for_set(first.name)
    if table is None:
        raise errors.not_found_segment(first.name)
    if len(segments) == 2 and segments[1].name.startswith(CRM) and first.key is not None:
        return _bound_function(req, segments)
    return handle_rows(req, table, segments)


def _service_document(req: ApiRequest) -> ApiResponse:
    sets = sorted(t.entity_set for t in req.env.tables.values())
    value = [{"name": s, "kind": "EntitySet", "url": s} for s in sets]
    return ApiResponse(200, {"@odata.context": f"{req.api_url}$metadata", "value": value})


def _who_am_i(req: ApiRequest) -> ApiResponse:
    return ApiResponse(
        200,
        {
            "@odata.context": f"{req.api_url}$metadata#{CRM}WhoAmIResponse",
            "BusinessUnitId": req.env.business_unit_id,
            "UserId": req.user_id,
            "OrganizationId": req.env.organization_id,
        },
    )


def _bound_function(req: ApiRequest, segments: list[Segment]) -> ApiResponse:
    name = segments[1].name
    if segments[0].name == "systemusers" and name == f"{CRM}RetrieveUserPrivileges" and req.method == "GET":
        user_table = req.env.tables["systemuser"]
        assert segments[0].key is not None
        user = find_row(req, user_table, segments[0].key)
        if user is None:
            raise errors.record_missing("systemuser", str(segments[0].key))
        if user["systemuserid"] != req.user_id:
            privileges.require(req.env, req.user_id, "prvReadUser", user_table)
        body = {
            "@odata.context": f"{req.api_url}$metadata#{CRM}RetrieveUserPrivilegesResponse",
            "RolePrivileges": privileges.role_privileges(req.env, user["systemuserid"]),
        }
        return ApiResponse(200, body)
    raise errors.not_found_segment(segments[1].raw)
