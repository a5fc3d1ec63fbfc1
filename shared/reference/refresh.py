"""One connection's refresh: read each Xero list once, compare with the connector's Dynamics table, and
write only the rows whose values differ. Rows gone or archived in Xero become inactive in Dynamics, never
deleted (invoices may point at them). 5 Xero calls a refresh; 0 Dynamics writes when nothing changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.dataverse import schema
from shared.errors import FatalError, RetriableError
from shared.reference.xero_lists import KINDS, Kind, Row

log = logging.getLogger(__name__)
REMOVED = "REMOVED"
KEY_BUILD_WAIT_SECONDS = 30  # a key index on an empty table builds in seconds; check again after this


class Xero(Protocol):
    def get(self, resource: str, params: dict[str, Any] | None = None) -> Any: ...


class Dataverse(Protocol):
    def get(self, path_and_query: str) -> dict[str, Any]: ...

    def get_all(self, path_and_query: str) -> list[dict[str, Any]]: ...

    def upsert_by_key(self, entity_set: str, key_values: dict[str, Any], values: dict[str, Any]) -> bool: ...


@dataclass
class RefreshReport:
    counts: dict[str, int] = field(default_factory=dict)  # kind → rows Xero holds
    writes: int = 0  # Dynamics rows created or changed


def refresh(xero: Xero, dataverse: Dataverse, entity_sets: dict[str, str] | None = None) -> RefreshReport:
    report = RefreshReport()
    sets = entity_sets if entity_sets is not None else {}
    for kind in KINDS:
        wanted = [kind.to_row(record) for record in xero.get(kind.resource).get(kind.resource, [])]
        entity_set = sets.get(kind.table) or entity_set_of(dataverse, kind.table)
        sets[kind.table] = entity_set
        report.counts[kind.name] = len(wanted)
        report.writes += _sync_table(dataverse, kind, entity_set, wanted)
    return report


def entity_set_of(dataverse: Dataverse, table: str) -> str:
    """The table's Web API collection name, as Dataverse made it (its plural is not always name + "s"),
    once its Xero id key serves upserts. Dataverse builds a new key's index in the background (Learn,
    "Define alternate keys": EntityKeyIndexStatus Pending → InProgress → Active, or Failed), and an upsert
    by a key that is not Active fails: right after install the refresh waits for it instead (the same GET,
    no extra call)."""
    found = dataverse.get(
        f"EntityDefinitions(LogicalName='{table}')?$select=EntitySetName"
        "&$expand=Keys($select=LogicalName,EntityKeyIndexStatus)"
    )
    keys = {str(k.get("LogicalName")): str(k.get("EntityKeyIndexStatus")) for k in found.get("Keys") or []}
    status = keys.get(schema.REFERENCE_KEY_NAME)
    if status in ("Pending", "InProgress"):
        raise RetriableError(
            f"Dynamics is still building the Xero id key of {table} ({status}); the refresh waits for it",
            retry_after=KEY_BUILD_WAIT_SECONDS,
        )
    if status != "Active":
        raise FatalError(
            f"the Xero id key of {table} is {status or 'missing'} in Dynamics — fix: open the connector and "
            "choose Install into Dynamics again"
        )
    return str(found["EntitySetName"])


def _sync_table(dataverse: Dataverse, kind: Kind, entity_set: str, wanted: list[Row]) -> int:
    columns = ",".join(kind.columns)
    # A row without a Xero id was not made by the connector (someone added it by hand): not ours to touch.
    current = {
        str(r[schema.REFERENCE_ID_COLUMN]): r
        for r in dataverse.get_all(f"{entity_set}?$select={columns}")
        if r.get(schema.REFERENCE_ID_COLUMN)
    }
    writes = 0
    seen = set()
    for row in wanted:
        key = row[schema.REFERENCE_ID_COLUMN]
        seen.add(key)
        if key and _differs(row, current.get(key)):
            dataverse.upsert_by_key(entity_set, {schema.REFERENCE_ID_COLUMN: key}, _values(row))
            writes += 1
    for key, row in current.items():
        if key not in seen and row.get("dxc_isactive"):
            dataverse.upsert_by_key(
                entity_set, {schema.REFERENCE_ID_COLUMN: key}, {"dxc_isactive": False, "dxc_status": REMOVED}
            )
            writes += 1
    return writes


def _values(row: Row) -> Row:
    return {k: v for k, v in row.items() if k != schema.REFERENCE_ID_COLUMN}


def _differs(wanted: Row, current: Row | None) -> bool:
    return current is None or any(_normal(v) != _normal(current.get(k)) for k, v in wanted.items())


def _normal(value: Any) -> Any:
    """As Dataverse stores it: no value and "" alike, numbers to 4 decimals (decimals come back as float)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(float(value), 4)
    return value
