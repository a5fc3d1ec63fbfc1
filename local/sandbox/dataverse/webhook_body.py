"""The RemoteExecutionContext JSON Dataverse POSTs to a webhook, in the envelope of Microsoft's published
samples: keys in the same (alphabetical) order, `__type` first in typed values, dates as `\\/Date(ms)\\/`
and every `/` escaped the way .NET's DataContractJsonSerializer writes it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from .metadata_model import BOOLEAN, DATETIME, MONEY, OPTION_TYPES, Table
from .records import Change
from .store import EnvironmentState, Ref, Row

CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts"
NO_USER = "00000000-0000-0000-0000-000000000000"
USER_AGENT = "Dataverse sandbox (Web API)"


def ms_date(value: str) -> str:
    if len(value) == 10:
        value += "T00:00:00Z"
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"/Date({int(moment.timestamp() * 1000)})/"


def entity_reference(ref: Ref, name: str | None = None) -> dict[str, Any]:
    return {
        "__type": f"EntityReference:{CONTRACTS}",
        "Id": ref.id,
        "KeyAttributes": [],
        "LogicalName": ref.table,
        "Name": name,
        "RowVersion": None,
    }


def xrm_value(table: Table, column: str, value: Any) -> Any:
    attribute = table.attributes.get(column)
    if value is None or attribute is None:
        return value
    if isinstance(value, Ref):
        return entity_reference(value)
    if attribute.type == MONEY:
        return {"__type": f"Money:{CONTRACTS}", "Value": value}
    if attribute.type in OPTION_TYPES:
        return {"__type": f"OptionSetValue:{CONTRACTS}", "Value": value}
    if attribute.type == DATETIME:
        return ms_date(value)
    return value


def entity(
    table: Table, row_id: str, values: Row, version: Any, typed: bool, formatted: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {"__type": f"Entity:{CONTRACTS}"} if typed else {}
    body["Attributes"] = [{"key": k, "value": xrm_value(table, k, v)} for k, v in values.items()]
    body["EntityState"] = None
    body["FormattedValues"] = _formatted_values(table, values) if formatted else []
    body.update({"Id": row_id, "KeyAttributes": [], "LogicalName": table.logical_name, "RelatedEntities": []})
    body["RowVersion"] = str(version) if version is not None else None
    return body


def _formatted_values(table: Table, values: Row) -> list[dict[str, str]]:
    out = []
    for key, value in values.items():
        attribute = table.attributes.get(key)
        if attribute is None or value is None:
            continue
        if attribute.type in OPTION_TYPES and value in attribute.options:
            out.append({"key": key, "value": attribute.options[value]})
        elif attribute.type == BOOLEAN:
            out.append({"key": key, "value": attribute.true_label if value else attribute.false_label})
    return out


def remote_execution_context(
    env: EnvironmentState, change: Change, step: Row, correlation_id: str, depth: int
) -> dict[str, Any]:
    table = env.tables[change.table]
    now = f"/Date({int(dt.datetime.now(dt.UTC).timestamp() * 1000)}+0000)/"
    version = change.image.get("versionnumber")
    if change.message == "Delete":
        target: dict[str, Any] = entity_reference(Ref(change.row_id, change.table))
    else:
        target = entity(table, change.row_id, change.target, version, typed=True)
    pre_images, post_images = registered_images(env, table, change, step, version)
    user = env.get("systemuser", change.user_id) or {}
    aad = user.get("azureactivedirectoryobjectid") or NO_USER
    request_id, operation_id = str(uuid.uuid4()), str(uuid.uuid4())
    common = {
        "BusinessUnitId": env.business_unit_id,
        "CorrelationId": correlation_id,
        "Depth": depth,
        "InitiatingUserAgent": USER_AGENT,
        "InitiatingUserAzureActiveDirectoryObjectId": aad,
        "InitiatingUserId": change.user_id,
        "InputParameters": [{"key": "Target", "value": target}],
        "IsExecutingOffline": False,
        "IsInTransaction": False,
        "IsOfflinePlayback": False,
        "IsolationMode": 1,
        "MessageName": change.message,
        "Mode": 1,
        "OperationCreatedOn": now,
        "OperationId": operation_id,
        "OrganizationId": env.organization_id,
        "OrganizationName": env.unique_name,
        "OutputParameters": [{"key": "id", "value": change.row_id}] if change.message == "Create" else [],
        "OwningExtension": {
            "Id": step["sdkmessageprocessingstepid"],
            "KeyAttributes": [],
            "LogicalName": "sdkmessageprocessingstep",
            "Name": step.get("name"),
            "RowVersion": None,
        },
    }
    tail = {
        "PrimaryEntityId": change.row_id,
        "PrimaryEntityName": change.table,
        "RequestId": request_id,
        "SecondaryEntityName": "none",
        "SharedVariables": [{"key": "IsAutoTransact", "value": True}, {"key": "AcceptLang", "value": ""}],
    }
    parent = {
        **common,
        "ParentContext": None,
        "PostEntityImages": [],
        "PreEntityImages": [],
        **tail,
        "Stage": 30,
        "UserAzureActiveDirectoryObjectId": aad,
        "UserId": change.user_id,
    }
    return {
        **common,
        "ParentContext": parent,
        "PostEntityImages": post_images,
        "PreEntityImages": pre_images,
        **tail,
        "Stage": 40,
        "UserAzureActiveDirectoryObjectId": aad,
        "UserId": change.user_id,
    }


PRE, POST, BOTH = 0, 1, 2


def registered_images(
    env: EnvironmentState, table: Table, change: Change, step: Row, version: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(PreEntityImages, PostEntityImages): only the images the step registered, each with only the
    columns it lists (all columns when the list is empty) and only those that hold a value.

    Learn, "Use webhooks" (the Update sample carries nothing but AsynchronousStepPrimaryName) and
    "Understand the execution context" → "Entity images": images are sent only when registered on the
    step (sdkmessageprocessingstepimage); Create has no pre-image, Delete no post-image. The automatic
    AsynchronousStepPrimaryName post-image (primary name and id) comes with every asynchronous Create and
    Update, as in Microsoft's samples (seen for Update; for Create unverified, kept as the same envelope).
    """
    pre: list[dict[str, Any]] = []
    post: list[dict[str, Any]] = []
    if change.message != "Delete":
        primary = {k: change.image.get(k) for k in (table.primary_name, table.primary_id)}
        post.append(
            {
                "key": "AsynchronousStepPrimaryName",
                "value": entity(table, change.row_id, primary, None, typed=False),
            }
        )
    for image in _images_of(env, step):
        kind, alias = image.get("imagetype"), str(image.get("entityalias") or image.get("name") or "")
        wanted = _columns(image.get("attributes"))
        if kind in (PRE, BOTH) and change.message != "Create" and change.before is not None:
            values = _only(change.before, wanted)
            version_before = change.before.get("versionnumber")
            pre.append(
                {"key": alias, "value": entity(table, change.row_id, values, version_before, False, True)}
            )
        if kind in (POST, BOTH) and change.message != "Delete":
            values = _only(change.image, wanted)
            post.append({"key": alias, "value": entity(table, change.row_id, values, version, False, True)})
    return pre, post


def _images_of(env: EnvironmentState, step: Row) -> list[Row]:
    step_id = step["sdkmessageprocessingstepid"]
    return [
        row
        for row in env.all_rows("sdkmessageprocessingstepimage")
        if isinstance(row.get("sdkmessageprocessingstepid"), Ref)
        and row["sdkmessageprocessingstepid"].id == step_id
    ]


def _columns(listed: Any) -> set[str]:
    return {c.strip().lower() for c in str(listed or "").split(",") if c.strip()}


def _only(row: Row, wanted: set[str]) -> Row:
    return {k: v for k, v in row.items() if v is not None and (not wanted or k in wanted)}


def drop_payload(body: dict[str, Any]) -> dict[str, Any]:
    """What is left when the message is over 256 KB (Learn, "Use webhooks": ParentContext, InputParameters,
    PreEntityImages and PostEntityImages are removed)."""
    return {
        **body,
        "ParentContext": None,
        "InputParameters": [],
        "PostEntityImages": [],
        "PreEntityImages": [],
    }


def serialize(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/").encode("utf-8")
