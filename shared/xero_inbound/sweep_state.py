"""Each connection's sweep marks (Azure table `<prefix>sweeps`, one row per connection): when its last
sweep started (our clock, for Dynamics) and the newest UpdatedDateUTC it saw in Xero (Xero's clock, for
If-Modified-Since). Metadata only, like the connections table."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from azure.core.exceptions import ResourceNotFoundError

from shared.config import Settings
from shared.store.tables import table_client

if TYPE_CHECKING:
    from azure.data.tables import TableClient

SWEEPS = "sweeps"
ROW_KEY = "sweep"


class SweepMarks:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    @classmethod
    def from_settings(cls, settings: Settings) -> SweepMarks:
        return cls(table_client(settings, SWEEPS))

    def last(self, connection_id: str) -> tuple[datetime, datetime] | None:
        """(last sweep's start, newest Xero change seen), or None before the first sweep."""
        try:
            entity = self._table.get_entity(connection_id, ROW_KEY)
        except ResourceNotFoundError:
            return None
        return datetime.fromisoformat(str(entity["started_at"])), datetime.fromisoformat(
            str(entity["xero_mark"])
        )

    def save(self, connection_id: str, started_at: datetime, xero_mark: datetime) -> None:
        entity = {
            "PartitionKey": connection_id,
            "RowKey": ROW_KEY,
            "started_at": started_at.isoformat(),
            "xero_mark": xero_mark.isoformat(),
        }
        self._table.upsert_entity(entity)
