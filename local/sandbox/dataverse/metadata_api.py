"""EntityDefinitions: read table/column/key definitions; create custom tables, columns and alternate
keys (what the connector's installer does); delete custom ones. Creating something that exists fails,
so an installer checks with GET first."""

from __future__ import annotations

import time
import uuid
from typing import Any

from . import errors, privileges
from .metadata_columns import ACTIVE_INACTIVE, state_status, system_columns
from .metadata_json import attribute_from_body, attribute_json, entity_json, key_json, label_text
from .metadata_model import AlternateKey, Attribute, Table
from .odata_filter import parse_filter
from .odata_path import KeyValue, Segment
from .odata_query import split_top
from .payload import parse_json
from .solutions import (
    ATTRIBUTE,
    ENTITY,
    ENTITY_KEY,
    SOLUTION_HEADER,
    add_component,
    check_prefix,
    forget_component,
)
from .system_rows import install_message_filters
from .webapi_types import ApiRequest, ApiResponse

_CHILDREN = ("Attributes", "Keys")
CRM_NS = "Microsoft.Dynamics.CRM."


def handle(req: ApiRequest, segments: list[Segment]) -> ApiResponse:
    first = segments[0]
    if first.name != "EntityDefinitions":
        raise errors.DataverseError(
            501, "0x80060888", f"{first.name} is not supported by the Dataverse sandbox."
        )
    verb = {"GET": "Read", "POST": "Create", "DELETE": "Delete"}.get(req.method)
    if verb is None:
        raise errors.DataverseError(
            405, "0x80060888", "Updating definitions is not supported by the Dataverse sandbox."
        )
    if first.key is None:
        if len(segments) > 1:
            raise errors.not_found_segment(segments[1].raw)
        privileges.require(req.env, req.user_id, f"prv{verb}Entity")
        return _list_tables(req) if req.method == "GET" else _create_table(req)
    table = _find_table(req, first.key)
    if len(segments) == 1:
        privileges.require(req.env, req.user_id, f"prv{verb}Entity")
        if req.method == "DELETE":
            return _delete_table(req, table)
        if req.method == "GET":
            return ApiResponse(200, _shape(req, entity_json(table), table, dict(req.args)))
        raise errors.DataverseError(405, "0x80060888", "POST is not allowed on a table definition.")
    child = segments[1]
    if child.name not in _CHILDREN or len(segments) > 3:
        raise errors.not_found_segment(child.raw)
    privileges.require(
        req.env, req.user_id, f"prv{verb}{'Attribute' if child.name == 'Attributes' else 'EntityKey'}"
    )
    return _child(req, table, child, segments[2].name if len(segments) == 3 else None)


def _find_table(req: ApiRequest, key: KeyValue) -> Table:
    wanted = key.get("LogicalName") if isinstance(key, dict) else key
    for table in req.env.tables.values():
        if wanted in (table.logical_name, table.metadata_id):
            return table
    raise errors.DataverseError(404, "0x80040217", f"Could not find entity with name or id '{wanted}'.")


def _list_tables(req: ApiRequest) -> ApiResponse:
    items = [entity_json(t) for t in req.env.tables.values()]
    args = dict(req.args)
    if "$filter" in args:
        predicate = parse_filter(args.pop("$filter"), lambda _p: None)
        items = [i for i in items if predicate(i.get)]
    tables = {t.metadata_id: t for t in req.env.tables.values()}
    value = [_shape(req, i, tables[i["MetadataId"]], args) for i in items]
    return ApiResponse(200, {"@odata.context": f"{req.api_url}$metadata#EntityDefinitions", "value": value})


def _shape(req: ApiRequest, body: dict[str, Any], table: Table, args: dict[str, str]) -> dict[str, Any]:
    shaped = _select(body, args.get("$select"))
    for item in split_top(args.get("$expand", ""), ","):
        name, _, inner = item.partition("(")
        nested = dict(p.split("=", 1) for p in split_top(inner.rstrip(")"), ";") if "=" in p)
        if name == "Attributes":
            shaped[name] = [
                _select(attribute_json(table, a), nested.get("$select")) for a in table.attributes.values()
            ]
        elif name == "Keys":
            shaped[name] = [_select(key_json(table, k), nested.get("$select")) for k in table.keys.values()]
        else:
            raise errors.bad_query(f"Could not find a property named '{name}' on type '{_TYPE}'.")
    return {"@odata.context": f"{req.api_url}$metadata#EntityDefinitions/$entity", **shaped}


_TYPE = "Microsoft.Dynamics.CRM.EntityMetadata"


def _select(body: dict[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return body
    wanted = {s.strip() for s in select.split(",")} | {"MetadataId", "@odata.type"}
    return {k: v for k, v in body.items() if k in wanted}


def _child(req: ApiRequest, table: Table, child: Segment, cast: str | None) -> ApiResponse:
    is_attribute = child.name == "Attributes"
    if req.method == "POST":
        if child.key is not None:
            raise errors.DataverseError(405, "0x80060888", "POST is not allowed on a single definition.")
        return _create_attribute(req, table) if is_attribute else _create_key(req, table)
    items: dict[str, Any] = table.attributes if is_attribute else table.keys
    found = _find_child(items, table, child.key, is_attribute) if child.key is not None else None
    if req.method == "DELETE":
        if found is None:
            raise errors.DataverseError(405, "0x80060888", "DELETE needs a single definition.")
        return _delete_child(req, table, found)
    render = (lambda x: attribute_json(table, x)) if is_attribute else (lambda x: key_json(table, x))
    if found is not None:
        return ApiResponse(
            200,
            {
                "@odata.context": f"{_child_context(req, table, child.name)}/$entity",
                **_select(render(found), req.args.get("$select")),
            },
        )
    value = [render(x) for x in items.values()]
    if cast:
        value = [v for v in value if v["@odata.type"].endswith(cast.removeprefix("Microsoft.Dynamics.CRM."))]
    if "$filter" in req.args:
        predicate = parse_filter(req.args["$filter"], lambda _p: None)
        value = [v for v in value if predicate(v.get)]
    value = [_select(v, req.args.get("$select")) for v in value]
    return ApiResponse(
        200,
        {
            "@odata.context": _child_context(req, table, child.name),
            "value": value,
        },
    )


def _child_context(req: ApiRequest, table: Table, name: str) -> str:
    return f"{req.api_url}$metadata#EntityDefinitions('{table.metadata_id}')/{name}"


def _find_child(items: dict[str, Any], table: Table, key: KeyValue, is_attribute: bool) -> Any:
    wanted = key.get("LogicalName") if isinstance(key, dict) else key
    for name, item in items.items():
        if (
            wanted == name
            or wanted
            == (attribute_json(table, item) if is_attribute else key_json(table, item))["MetadataId"]
        ):
            return item
    thing = "attribute" if is_attribute else "entity key"
    raise errors.DataverseError(
        404, "0x80040217", f"Could not find {thing} '{wanted}' of entity '{table.logical_name}'."
    )


def _create_table(req: ApiRequest) -> ApiResponse:
    body = parse_json(req.body)
    schema = body.get("SchemaName")
    if not isinstance(schema, str) or "_" not in schema:
        raise errors.validation(
            f"The schema name '{schema}' must start with a valid customization prefix.", code="0x80044355"
        )
    solution = req.header(SOLUTION_HEADER)
    check_prefix(req.env, schema, solution)
    logical = schema.lower()
    entity_set = str(body.get("EntitySetName") or logical + "s")
    if logical in req.env.tables or req.env.table_for_set(entity_set):
        raise errors.metadata_duplicate(
            f"An entity with the specified name {schema} already exists. Specify a unique name."
        )
    primary = [a for a in body.get("Attributes") or [] if isinstance(a, dict) and a.get("IsPrimaryName")]
    if len(primary) != 1:
        raise errors.bad_payload(
            "The Attributes of a new table must include exactly one primary name StringAttributeMetadata."
        )
    name_column = attribute_from_body(primary[0])
    display = label_text(body.get("DisplayName"), schema)
    table = Table(
        logical,
        entity_set,
        f"{logical}id",
        name_column.logical_name,
        req.env.next_object_type_code,
        schema_name=schema,
        display_name=display,
        is_custom=True,
        display_collection_name=label_text(body.get("DisplayCollectionName"), display + "s"),
        description=label_text(body.get("Description"), ""),
        ownership=str(body.get("OwnershipType") or "UserOwned"),
    )
    req.env.next_object_type_code += 1
    system_columns(table)
    table.add(name_column)
    state_status(table, *ACTIVE_INACTIVE)
    req.env.add_table(table)
    privileges.grant_new_table(req.env, table)
    install_message_filters(req.env, table)
    add_component(req.env, solution, table.metadata_id, ENTITY)
    url = f"{req.api_url}EntityDefinitions({table.metadata_id})"
    return ApiResponse(204, None, {"OData-EntityId": url})


def _create_attribute(req: ApiRequest, table: Table) -> ApiResponse:
    attribute = attribute_from_body(parse_json(req.body))
    solution = req.header(SOLUTION_HEADER)
    check_prefix(req.env, attribute.schema_name, solution)
    if attribute.logical_name in table.attributes:
        raise errors.metadata_duplicate(
            f"An attribute with the specified name {attribute.schema_name} already exists "
            f"for entity {table.logical_name}."
        )
    table.add(attribute)
    for row in req.env.all_rows(table.logical_name):
        row[attribute.logical_name] = False if attribute.type == "Boolean" else None
    attribute_id = attribute_json(table, attribute)["MetadataId"]
    add_component(req.env, solution, attribute_id, ATTRIBUTE)
    url = f"{req.api_url}EntityDefinitions({table.metadata_id})/Attributes({attribute_id})"
    return ApiResponse(204, None, {"OData-EntityId": url})


def _create_key(req: ApiRequest, table: Table) -> ApiResponse:
    body = parse_json(req.body)
    schema, columns = body.get("SchemaName"), body.get("KeyAttributes")
    if not isinstance(schema, str) or not isinstance(columns, list) or not columns:
        raise errors.bad_payload("An EntityKeyMetadata needs SchemaName and KeyAttributes.")
    solution = req.header(SOLUTION_HEADER)
    check_prefix(req.env, schema, solution)
    for column in columns:
        if column not in table.attributes or table.attributes[column].type not in (
            "String",
            "Integer",
            "Decimal",
            "DateTime",
            "Lookup",
            "Picklist",
        ):
            raise errors.validation(
                f"The attribute '{column}' cannot be part of an entity key.", code="0x80060890"
            )
    logical = schema.lower()
    if logical in table.keys or any(set(k.attributes) == set(columns) for k in table.keys.values()):
        raise errors.metadata_duplicate(
            f"An entity key with the name {schema} or the same attributes already exists."
        )
    key = AlternateKey(logical, tuple(columns), schema, label_text(body.get("DisplayName"), schema))
    key.ready_at = time.time() + req.env.key_build_seconds
    key.failed = req.env.key_build_fails
    table.keys[logical] = key
    key_id = key_json(table, key)["MetadataId"]
    add_component(req.env, solution, key_id, ENTITY_KEY)
    return ApiResponse(
        204,
        None,
        {"OData-EntityId": f"{req.api_url}EntityDefinitions({table.metadata_id})/Keys({key_id})"},
    )


def _delete_table(req: ApiRequest, table: Table) -> ApiResponse:
    if not table.is_custom:
        raise errors.validation(
            f"The system table {table.logical_name} cannot be deleted.", code="0x80040203"
        )
    for attribute in table.attributes.values():
        forget_component(req.env, attribute_json(table, attribute)["MetadataId"])
    for key in table.keys.values():
        forget_component(req.env, key_json(table, key)["MetadataId"])
    forget_component(req.env, table.metadata_id)
    del req.env.tables[table.logical_name]
    req.env.rows.pop(table.logical_name, None)
    return ApiResponse(204)


def _delete_child(req: ApiRequest, table: Table, item: Attribute | AlternateKey) -> ApiResponse:
    if not item.is_custom:
        raise errors.validation(
            f"The system definition {item.logical_name} cannot be deleted.", code="0x80040203"
        )
    if isinstance(item, AlternateKey):
        forget_component(req.env, key_json(table, item)["MetadataId"])
        del table.keys[item.logical_name]
        return ApiResponse(204)
    forget_component(req.env, attribute_json(table, item)["MetadataId"])
    del table.attributes[item.logical_name]
    for row in req.env.all_rows(table.logical_name):
        row.pop(item.logical_name, None)
    return ApiResponse(204)


def reactivate_key(req: ApiRequest) -> ApiResponse:
    """Learn, ReactivateEntityKey action (EntityLogicalName, EntityKeyLogicalName): submits a new
    background job that builds the key's index again; the answer names that job (EntityKeyIndex)."""
    privileges.require(req.env, req.user_id, "prvCreateEntityKey")
    body = parse_json(req.body)
    table = req.env.tables.get(str(body.get("EntityLogicalName") or "").lower())
    key = table.keys.get(str(body.get("EntityKeyLogicalName") or "").lower()) if table else None
    if table is None or key is None:
        raise errors.not_found_segment(str(body.get("EntityKeyLogicalName") or "EntityKey"))
    key.failed = req.env.key_build_fails
    key.ready_at = time.time() + req.env.key_build_seconds
    job = {"@odata.type": "#Microsoft.Dynamics.CRM.asyncoperation", "asyncoperationid": str(uuid.uuid4())}
    return ApiResponse(200, {"@odata.context": f"{req.api_url}$metadata#{CRM_NS}ReactivateEntityKeyResponse",
                             "EntityKeyIndex": job})  # fmt: skip
