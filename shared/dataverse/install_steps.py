"""Install into Dynamics cut into named steps, for a run that continues in a queue function
(shared/connections/install_job.py) and shows its progress step by step.

Each step is one part of install.py's plan and just as idempotent: it reads first and creates only what
is missing, so a step that is run again after a crash (the queue redelivers the message) changes nothing
that the first attempt already did. The webhook is not among these steps: it carries the connection's
key, which the job handles itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from shared.dataverse import install_plan as plan
from shared.dataverse.client import DataverseClient
from shared.dataverse.install import (
    InstallReport,
    _definition,
    _ensure_columns,
    _ensure_solution,
    _ensure_table,
    _existing_columns,
)
from shared.errors import NotFoundError


@dataclass(frozen=True)
class MetadataStep:
    title: str  # what the page says while it runs
    run: Callable[[DataverseClient, InstallReport], None]


def metadata_steps() -> list[MetadataStep]:
    """The publisher and solution, the columns on built-in tables, then one step per connector table."""
    tables = [
        MetadataStep(f"Creating the table {table.plural} ({table.logical_name})", partial(_table, table))
        for table in plan.TABLES
    ]
    return [
        MetadataStep("Creating the publisher and the Xero Connector solution", _ensure_solution),
        MetadataStep("Adding the Xero columns to invoices, accounts and contacts", _built_in_columns),
        *tables,
    ]


def _built_in_columns(client: DataverseClient, report: InstallReport) -> None:
    for table_name, columns in plan.COLUMNS_BY_TABLE.items():
        _ensure_columns(client, table_name, columns, _existing_columns(client, table_name), report)


def _table(table: plan.Table, client: DataverseClient, report: InstallReport) -> None:
    _ensure_table(client, table, report)


def key_statuses(client: DataverseClient) -> dict[str, str]:
    """Each connector key's EntityKeyIndexStatus ("" when the key or its table is missing). Learn,
    "Define alternate keys": Dataverse builds a new key's index in a system job (Pending, InProgress),
    then Active; an upsert by a key that is not Active fails; a failed build is Failed."""
    statuses: dict[str, str] = {}
    for table in plan.TABLES:
        if table.key is None:
            continue
        try:
            found = client.get(
                _definition(table.logical_name) + "?$select=LogicalName"
                "&$expand=Keys($select=LogicalName,EntityKeyIndexStatus)"
            )
        except NotFoundError:
            statuses[table.key.logical_name + " on " + table.logical_name] = ""
            continue
        keys = {str(k.get("LogicalName")): str(k.get("EntityKeyIndexStatus") or "") for k in found["Keys"]}
        statuses[table.key.logical_name + " on " + table.logical_name] = keys.get(table.key.logical_name, "")
    return statuses
