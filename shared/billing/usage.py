"""Invoices sent to Xero per connection and calendar month: a counter row, no business data.

Table `usage`: PartitionKey = connection id, RowKey = "YYYY-MM", `count`, `warned` (the 80% e-mail went).
Increments are ETag-conditional (read, +1, replace if unchanged; retry on a lost race), so two workers
never lose a count."""

from __future__ import annotations

from datetime import datetime

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient

from shared.billing.allowance import month_key
from shared.config import Settings
from shared.errors import ConcurrencyError
from shared.store.tables import replace_if_unchanged, table_client

USAGE = "usage"


class UsageStore:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    @classmethod
    def from_settings(cls, settings: Settings) -> UsageStore:
        return cls(table_client(settings, USAGE))

    def count(self, connection_id: str, now: datetime) -> int:
        try:
            return int(self._table.get_entity(connection_id, month_key(now)).get("count", 0))
        except ResourceNotFoundError:
            return 0

    def add_one(self, connection_id: str, now: datetime, retries: int = 20) -> tuple[int, int]:
        """(count before, count after)."""
        key = month_key(now)
        for _ in range(retries):
            try:
                row = self._table.get_entity(connection_id, key)
            except ResourceNotFoundError:
                try:
                    self._table.create_entity(
                        {"PartitionKey": connection_id, "RowKey": key, "count": 1, "warned": False}
                    )
                    return 0, 1
                except ResourceExistsError:
                    continue
            before = int(row.get("count", 0))
            row["count"] = before + 1
            try:
                replace_if_unchanged(self._table, row, row.metadata["etag"])
            except ResourceModifiedError:
                continue
            return before, before + 1
        raise ConcurrencyError(f"usage of {connection_id} kept changing")

    def claim_warning(self, connection_id: str, now: datetime) -> bool:
        """True once a month per connection: whoever flips `warned` sends the 80% e-mail."""
        try:
            row = self._table.get_entity(connection_id, month_key(now))
        except ResourceNotFoundError:
            return False
        if row.get("warned"):
            return False
        row["warned"] = True
        try:
            replace_if_unchanged(self._table, row, row.metadata["etag"])
        except ResourceModifiedError:
            return False
        return True
