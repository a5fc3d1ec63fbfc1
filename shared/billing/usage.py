"""Invoices sent to Xero per connection and calendar month: a counter row, no business data.

Table `usage`: PartitionKey = connection id, RowKey = "YYYY-MM", `count`, `warned` (the 80% e-mail went).
Increments are ETag-conditional (read, +1, replace if unchanged; retry on a lost race), so two workers
never lose a count. The row count() read is remembered (count, warned, ETag) for the add_one() that
follows it within the same push: a replace conditional on that ETag is the same guarantee as reading the
row again first (if anyone wrote it since, the replace is refused and add_one reads it as before), and
saves a table read per invoice sent."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

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
        self._seen: dict[tuple[str, str], dict[str, Any]] = {}  # (connection, month) -> row as last read
        self._seen_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> UsageStore:
        return cls(table_client(settings, USAGE))

    def count(self, connection_id: str, now: datetime) -> int:
        key = month_key(now)
        try:
            row = self._table.get_entity(connection_id, key)
        except ResourceNotFoundError:
            return 0
        self._remember(connection_id, key, row)
        return int(row.get("count", 0))

    def add_one(self, connection_id: str, now: datetime, retries: int = 20) -> tuple[int, int]:
        """(count before, count after)."""
        key = month_key(now)
        seen = self._take_seen(connection_id, key)
        if seen is not None:
            added = self._replace_counted(seen)
            if added is not None:
                return added
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
            added = self._replace_counted({**row, "etag": row.metadata["etag"]})
            if added is not None:
                return added
        raise ConcurrencyError(f"usage of {connection_id} kept changing")

    def _replace_counted(self, row: dict[str, Any]) -> tuple[int, int] | None:
        """Replace `row` (with its ETag under "etag") with its count + 1, unless someone wrote it since."""
        before = int(row.get("count", 0))
        etag = row.pop("etag")
        try:
            replace_if_unchanged(self._table, {**row, "count": before + 1}, etag)
        except (ResourceModifiedError, ResourceNotFoundError):
            return None
        return before, before + 1

    def _remember(self, connection_id: str, key: str, row: Any) -> None:
        seen = {**row, "etag": row.metadata["etag"]}
        with self._seen_lock:
            self._seen[(connection_id, key)] = seen

    def _take_seen(self, connection_id: str, key: str) -> dict[str, Any] | None:
        with self._seen_lock:
            return self._seen.pop((connection_id, key), None)

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
