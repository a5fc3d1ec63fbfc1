"""Install into Dynamics: one click instead of importing a solution zip.

Idempotent: every part is read first; only what is missing is created and only what differs is changed,
so a second run reports no changes and a half-finished first run (a timeout, a 429) is completed by simply
running it again. Definitions that exist with another type are reported as problems, never dropped: a
customer's data may live in them.

The webhook key (serviceendpoint.authvalue) cannot be read back, and the connector keeps only its hash.
So the key is written when the endpoint is created, when its URL changes (it then serves another
connection or deployment) and when the caller asks for it (`rotate_key`: an explicit rotation, or the
connection has no hash of the registered key). `InstallReport.key_written` tells the caller whether to
store the hash of the key it passed; otherwise that key was not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.dataverse import install_plan as plan
from shared.dataverse import schema
from shared.dataverse.client import DataverseClient
from shared.dataverse.install_webhook import ensure_endpoint, ensure_steps, odata_string
from shared.dataverse.privileges import WEBHOOK_ONLY, MissingPrivilege, check_privileges
from shared.errors import FatalError, NotFoundError


@dataclass
class InstallReport:
    changes: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    key_written: bool = False
    endpoint_id: str = ""


class MissingPrivilegesError(FatalError):
    def __init__(self, missing: list[MissingPrivilege]) -> None:
        super().__init__(
            "Install into Dynamics needs privileges you do not have: " + "; ".join(map(str, missing))
        )
        self.missing = missing


def install(
    client: DataverseClient,
    webhook_url: str,
    webhook_key: str,
    *,
    rotate_key: bool = False,
    connection_id: str = "",
) -> InstallReport:
    """`connection_id` names the connection's own webhook (install_plan.endpoint_name)."""
    missing = check_privileges(client, for_install=True)
    webhook_only = {n.privilege for n in WEBHOOK_ONLY}
    if any(m.privilege in webhook_only for m in missing):
        raise MissingPrivilegesError(missing)
    report = InstallReport()
    if missing and imported_solution_complete(client):
        # the admin imported the solution .zip and the user may not customise (organisations that keep
        # that to admins): only what carries this connection's key is registered. A user who may
        # customise takes the full path below, which creates nothing that exists either, and also
        # rebuilds a failed key.
        report.unchanged.append(f"Solution {plan.SOLUTION_LABEL} (imported), with every table and column")
    elif missing:
        raise MissingPrivilegesError(missing)
    else:
        _ensure_solution(client, report)
        for table_name, columns in plan.COLUMNS_BY_TABLE.items():
            _ensure_columns(client, table_name, columns, _existing_columns(client, table_name), report)
        for table in plan.TABLES:
            _ensure_table(client, table, report)
    report.endpoint_id, report.key_written = ensure_endpoint(
        client, webhook_url, webhook_key, rotate_key, report, connection_id
    )
    ensure_steps(client, report.endpoint_id, report)
    return report


def imported_solution_complete(client: DataverseClient) -> bool:
    """The Xero Connector solution exists and every table, column and key of the plan is in the
    environment (as after importing the solution .zip): nothing of the metadata needs creating."""
    solutions = client.get_all(
        f"solutions?$select=solutionid&$filter=uniquename eq {odata_string(plan.SOLUTION)}"
    )
    if not solutions:
        return False
    for table_name, columns in plan.COLUMNS_BY_TABLE.items():
        existing = _existing_columns(client, table_name)
        if any(existing.get(c.logical_name) != plan.ATTRIBUTE_TYPE[c.kind] for c in columns):
            return False
    for table in plan.TABLES:
        try:
            found = client.get(
                _definition(table.logical_name)
                + "?$select=LogicalName&$expand=Attributes($select=LogicalName),Keys($select=LogicalName)"
            )
        except NotFoundError:
            return False
        names = {str(a["LogicalName"]) for a in found.get("Attributes", [])}
        keys = {str(k["LogicalName"]) for k in found.get("Keys", [])}
        if any(c.logical_name not in names for c in table.columns):
            return False
        if table.key is not None and table.key.logical_name not in keys:
            return False
    return True


def _ensure_solution(client: DataverseClient, report: InstallReport) -> None:
    """The connector's publisher (prefix dxc) and its unmanaged solution, reused when they exist."""
    publishers = client.get_all(
        "publishers?$select=publisherid,uniquename&$filter=customizationprefix eq "
        + odata_string(schema.PREFIX)
    )
    if publishers:
        publisher_id = str(publishers[0]["publisherid"])
        report.unchanged.append(f"Publisher with the prefix {schema.PREFIX}")
    else:
        publisher_id = client.create(
            "publishers",
            {
                "uniquename": plan.PUBLISHER,
                "friendlyname": plan.PUBLISHER_LABEL,
                "customizationprefix": schema.PREFIX,
                "customizationoptionvalueprefix": plan.OPTION_VALUE_PREFIX,
            },
        )
        report.changes.append(f"Created the publisher {plan.PUBLISHER_LABEL} (prefix {schema.PREFIX})")
    solutions = client.get_all(
        f"solutions?$select=solutionid,uniquename&$filter=uniquename eq {odata_string(plan.SOLUTION)}"
    )
    if solutions:
        report.unchanged.append(f"Solution {plan.SOLUTION_LABEL}")
        return
    client.create(
        "solutions",
        {
            "uniquename": plan.SOLUTION,
            "friendlyname": plan.SOLUTION_LABEL,
            "version": "1.0.0.0",
            "publisherid@odata.bind": f"/publishers({publisher_id})",
        },
    )
    report.changes.append(f"Created the solution {plan.SOLUTION_LABEL}")


def _definition(table_name: str) -> str:
    return f"EntityDefinitions(LogicalName='{table_name}')"


def _existing_columns(client: DataverseClient, table_name: str) -> dict[str, str]:
    """Custom columns of a table: logical name → AttributeType."""
    query = "/Attributes?$select=LogicalName,AttributeType&$filter=IsCustomAttribute eq true"
    rows = client.get_all(_definition(table_name) + query)
    return {str(r["LogicalName"]): str(r.get("AttributeType", "")) for r in rows}


def _ensure_columns(
    client: DataverseClient,
    table_name: str,
    columns: tuple[plan.Column, ...],
    existing: dict[str, str],
    report: InstallReport,
) -> None:
    for column in columns:
        what = f"column {column.logical_name} on {table_name}"
        found = existing.get(column.logical_name)
        if found is None:
            client.create(f"{_definition(table_name)}/Attributes", column.metadata(), plan.SOLUTION)
            report.changes.append(f"Added {what}")
        elif found != plan.ATTRIBUTE_TYPE[column.kind]:
            report.problems.append(
                f"The {what} is a {found} column, not {plan.ATTRIBUTE_TYPE[column.kind]}: left as it is"
            )
        else:
            report.unchanged.append(what.capitalize())


def _ensure_table(client: DataverseClient, table: plan.Table, report: InstallReport) -> None:
    expand = (
        "?$select=LogicalName&$expand=Attributes($select=LogicalName,AttributeType),"
        "Keys($select=LogicalName,KeyAttributes,EntityKeyIndexStatus)"
    )
    try:
        found = client.get(_definition(table.logical_name) + expand)
    except NotFoundError:
        client.create("EntityDefinitions", table.metadata(), plan.SOLUTION)
        report.changes.append(f"Created table {table.logical_name}")
        found = client.get(_definition(table.logical_name) + expand)
    else:
        report.unchanged.append(f"Table {table.logical_name}")
    columns = {str(a["LogicalName"]): str(a.get("AttributeType", "")) for a in found.get("Attributes", [])}
    _ensure_columns(client, table.logical_name, table.columns, columns, report)
    if table.key is not None:
        _ensure_key(client, table, table.key, found.get("Keys", []), report)


def _ensure_key(
    client: DataverseClient,
    table: plan.Table,
    key: plan.Key,
    existing: list[dict[str, Any]],
    report: InstallReport,
) -> None:
    what = f"key {key.logical_name} on {table.logical_name}"
    same_columns = [k for k in existing if sorted(k.get("KeyAttributes") or []) == sorted(key.columns)]
    if same_columns and same_columns[0].get("EntityKeyIndexStatus") == "Failed":
        # Learn, "Define alternate keys": a key whose index build failed is rebuilt by ReactivateEntityKey
        # (a new background job); the reference refresh waits for it as for a new key
        found = str(same_columns[0].get("LogicalName") or key.logical_name)
        client.action(
            "ReactivateEntityKey", {"EntityLogicalName": table.logical_name, "EntityKeyLogicalName": found}
        )
        report.changes.append(f"Asked Dynamics to build the {what} again (its index had failed)")
        return
    if same_columns:
        report.unchanged.append(what.capitalize())
        return
    if any(str(k.get("LogicalName")) == key.logical_name for k in existing):
        report.problems.append(f"The {what} exists with other columns: left as it is")
        return
    client.create(f"{_definition(table.logical_name)}/Keys", key.metadata(), plan.SOLUTION)
    report.changes.append(f"Added {what}")
