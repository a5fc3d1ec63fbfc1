"""The webhook half of Install into Dynamics: the serviceendpoint row and the steps bound to it.

Steps are recognised by what they do (endpoint, message, table), not by name, so a step an administrator
renamed or disabled is repaired rather than duplicated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.dataverse import install_plan as plan
from shared.dataverse.client import DataverseClient
from shared.errors import FatalError

if TYPE_CHECKING:
    from shared.dataverse.install import InstallReport

_ENDPOINT_FIELDS = ("name", "url", "contract", "authtype", "messageformat")
OTHERS_SERVE = (
    "Another connection of this connector already receives this Dynamics environment's invoices (a webhook "
    "of its own, left as it is). Both will send the same invoices to their Xero organisations: if that is "
    "not intended, remove the other connection, or its webhook in Dynamics."
)
SHARED_LEFT_OVER = (
    f"Dynamics still has the webhook named {plan.ENDPOINT_NAME!r} that connections shared before each got "
    "its own. It was left as it is: remove it in Dynamics once every connection using this environment has "
    "been installed again."
)
_STEP_FIELDS = (
    "name",
    "stage",
    "mode",
    "rank",
    "asyncautodelete",
    "supporteddeployment",
    "filteringattributes",
)


def odata_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ensure_endpoint(
    client: DataverseClient,
    url: str,
    key: str,
    rotate_key: bool,
    report: InstallReport,
    connection_id: str = "",
) -> tuple[str, bool]:
    """(endpoint id, whether `key` was written). Only the endpoint named by this connection is read or
    written: another connection's endpoint in the same environment is never touched, only reported."""
    name = plan.endpoint_name(connection_id)
    wanted = plan.endpoint_row(url, connection_id)
    found = client.get_all(
        f"serviceendpoints?$select=serviceendpointid,{','.join(_ENDPOINT_FIELDS)}"
        f"&$filter=startswith(name,{odata_string(plan.ENDPOINT_NAME)})"
    )
    mine = [e for e in found if e.get("name") == name]
    others = {str(e.get("name")) for e in found if e.get("name") != name}
    if plan.ENDPOINT_NAME in others and connection_id:
        report.problems.append(SHARED_LEFT_OVER)
    if others - {plan.ENDPOINT_NAME}:
        report.problems.append(OTHERS_SERVE)
    if not mine:
        endpoint_id = client.create("serviceendpoints", {**wanted, "authvalue": key}, plan.SOLUTION)
        report.changes.append(f"Registered the webhook {name}")
        return endpoint_id, True
    endpoint = mine[0]
    endpoint_id = str(endpoint["serviceendpointid"])
    differs = {field: wanted[field] for field in _ENDPOINT_FIELDS if endpoint.get(field) != wanted[field]}
    write_key = rotate_key or "url" in differs
    if differs or write_key:
        client.update(
            "serviceendpoints", endpoint_id, {**differs, **({"authvalue": key} if write_key else {})}
        )
    if differs:
        report.changes.append(f"Updated the webhook {name}: {', '.join(sorted(differs))}")
    if write_key:
        report.changes.append("Gave the webhook a new key")
    if not differs and not write_key:
        report.unchanged.append(f"Webhook {name}")
    return endpoint_id, write_key


def ensure_steps(client: DataverseClient, endpoint_id: str, report: InstallReport) -> None:
    messages = _message_ids(client)
    filters = _filter_ids(client)
    existing = client.get_all(
        "sdkmessageprocessingsteps?$select=sdkmessageprocessingstepid,_sdkmessageid_value,"
        f"_sdkmessagefilterid_value,statecode,{','.join(_STEP_FIELDS)}"
        f"&$filter=_eventhandler_value eq {endpoint_id}"
    )
    for step in plan.STEPS:
        message_id = messages[step.message]
        filter_id = filters.get((message_id.lower(), step.table))
        if filter_id is None:
            raise FatalError(f"Dynamics has no {step.message} message for the {step.table} table")
        wanted = step.row(endpoint_id, message_id, filter_id)
        current = next(
            (
                s
                for s in existing
                if _same_id(s.get("_sdkmessageid_value"), message_id)
                and _same_id(s.get("_sdkmessagefilterid_value"), filter_id)
            ),
            None,
        )
        if current is None:
            step_id = client.create("sdkmessageprocessingsteps", wanted, plan.SOLUTION)
            report.changes.append(f"Added the step {step.message} of {step.table}")
            _ensure_images(client, step, step_id, [], report)
            continue
        _repair_step(client, step, current, wanted, report)
        if step.images:
            step_id = str(current["sdkmessageprocessingstepid"])
            _ensure_images(client, step, step_id, _images(client, step_id), report)


_IMAGE_FIELDS = ("entityalias", "imagetype", "messagepropertyname", "attributes")


def _images(client: DataverseClient, step_id: str) -> list[dict[str, Any]]:
    return client.get_all(
        f"sdkmessageprocessingstepimages?$select=sdkmessageprocessingstepimageid,{','.join(_IMAGE_FIELDS)}"
        f"&$filter=_sdkmessageprocessingstepid_value eq {step_id}"
    )


def _ensure_images(
    client: DataverseClient,
    step: plan.Step,
    step_id: str,
    existing: list[dict[str, Any]],
    report: InstallReport,
) -> None:
    """The images the step needs, found by alias; an image whose columns or type someone changed is
    repaired (a missing invoiceid would lose deleted lines again)."""
    for image in step.images:
        wanted = image.row(step_id)
        current = next(
            (i for i in existing if str(i.get("entityalias") or "").lower() == image.kind.lower()), None
        )
        if current is None:
            client.create("sdkmessageprocessingstepimages", wanted, plan.SOLUTION)
            report.changes.append(f"Added the {image.kind} of the step {step.message} of {step.table}")
            continue
        image_id = str(current["sdkmessageprocessingstepimageid"])
        differs = {
            name: wanted[name] for name in _IMAGE_FIELDS if not _same_image_field(name, current, wanted)
        }
        if differs:
            client.update("sdkmessageprocessingstepimages", image_id, differs)
            report.changes.append(
                f"Repaired the {image.kind} of the step {step.message} of {step.table}: "
                + ", ".join(sorted(differs))
            )
        else:
            report.unchanged.append(f"{image.kind} of the step {step.message} of {step.table}")


def _same_image_field(name: str, current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    if name == "attributes":
        return _columns(current.get(name)) == _columns(wanted[name])
    return bool(current.get(name) == wanted[name])


def _repair_step(
    client: DataverseClient,
    step: plan.Step,
    current: dict[str, Any],
    wanted: dict[str, Any],
    report: InstallReport,
) -> None:
    differs = {
        name: wanted[name] for name in _STEP_FIELDS if not _same_value(name, current.get(name), wanted[name])
    }
    if current.get("statecode") != 0:
        differs.update(statecode=0, statuscode=1)  # re-enable a step someone switched off
    if differs:
        client.update("sdkmessageprocessingsteps", str(current["sdkmessageprocessingstepid"]), differs)
        report.changes.append(
            f"Repaired the step {step.message} of {step.table}: {', '.join(sorted(differs))}"
        )
    else:
        report.unchanged.append(f"Step {step.message} of {step.table}")


def _message_ids(client: DataverseClient) -> dict[str, str]:
    names = sorted({step.message for step in plan.STEPS})
    condition = " or ".join(f"name eq {odata_string(n)}" for n in names)
    rows = client.get_all(f"sdkmessages?$select=sdkmessageid,name&$filter={condition}")
    found = {str(r["name"]): str(r["sdkmessageid"]) for r in rows}
    missing = [n for n in names if n not in found]
    if missing:
        raise FatalError(f"Dynamics has no SDK message named {', '.join(missing)}")
    return found


def _filter_ids(client: DataverseClient) -> dict[tuple[str, str], str]:
    """(message id, table) → sdkmessagefilterid."""
    tables = sorted({step.table for step in plan.STEPS})
    condition = " or ".join(f"primaryobjecttypecode eq {odata_string(t)}" for t in tables)
    rows = client.get_all(
        f"sdkmessagefilters?$select=sdkmessagefilterid,_sdkmessageid_value,primaryobjecttypecode&$filter={condition}"
    )
    found: dict[tuple[str, str], str] = {}
    for row in rows:
        key = (str(row.get("_sdkmessageid_value", "")).lower(), str(row.get("primaryobjecttypecode", "")))
        found.setdefault(key, str(row["sdkmessagefilterid"]))
    return found


def _same_id(value: Any, wanted: str) -> bool:
    return str(value or "").lower() == wanted.lower()


def _same_value(name: str, current: Any, wanted: Any) -> bool:
    if name == "filteringattributes":
        return _columns(current) == _columns(wanted)
    return bool(current == wanted)


def _columns(value: Any) -> set[str]:
    return {c.strip().lower() for c in str(value or "").split(",") if c.strip()}
