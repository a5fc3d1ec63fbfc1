"""Abuse counters in table storage, so every instance sees the same count (issue 16).

One row per (rule, key): PartitionKey = the rule's name, RowKey = a SHA-256 of the key (the key holds an
e-mail address or an IP: neither appears in table keys, which storage logs may show). The row keeps the
times of the uses inside the rule's window (a sliding log: at most `limit` entries). Taking a use is a
read and an ETag-conditional write: two instances racing for the last use cannot both get it; the loser
reads again and is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient

from shared.config import Settings
from shared.store.models import utc_now
from shared.store.tables import replace_if_unchanged, table_client

LIMITS = "limits"
RACE_RETRIES = 20


@dataclass(frozen=True)
class Rule:
    name: str  # letters and dashes: the PartitionKey
    limit: int
    window: timedelta


class LimitStore:
    def __init__(self, table: TableClient, clock: Callable[[], datetime] = utc_now) -> None:
        self._table, self._clock = table, clock

    @classmethod
    def from_settings(cls, settings: Settings) -> LimitStore:
        return cls(table_client(settings, LIMITS))

    def take(self, rule: Rule, key: str) -> timedelta | None:
        """Reserve one use: None when admitted (it counts from now), else how long until one is free."""
        row_key = _row_key(key)
        for _ in range(RACE_RETRIES):
            now = self._clock().timestamp()
            entity = self._read(rule.name, row_key)
            stamps = [t for t in _stamps(entity) if now - t < rule.window.total_seconds()]
            if len(stamps) >= rule.limit:
                return timedelta(seconds=max(1.0, stamps[0] + rule.window.total_seconds() - now))
            if self._write(rule.name, row_key, entity, [*stamps, now]):
                return None
        return rule.window  # lost every race: under that much contention, refusing is the safe answer

    def release(self, rule: Rule, key: str) -> None:
        """Forget every use of the key (a successful sign-in clears its failures)."""
        try:
            self._table.delete_entity(rule.name, _row_key(key))
        except ResourceNotFoundError:
            pass

    def give_back(self, rule: Rule, key: str) -> None:
        """Return the newest use (a reservation that turned out not to count)."""
        row_key = _row_key(key)
        for _ in range(RACE_RETRIES):
            entity = self._read(rule.name, row_key)
            stamps = _stamps(entity)
            if entity is None or not stamps or self._write(rule.name, row_key, entity, stamps[:-1]):
                return

    def used(self, rule: Rule, key: str) -> int:
        now = self._clock().timestamp()
        entity = self._read(rule.name, _row_key(key))
        return len([t for t in _stamps(entity) if now - t < rule.window.total_seconds()])

    def _read(self, partition: str, row_key: str) -> dict[str, Any] | None:
        try:
            entity = self._table.get_entity(partition, row_key)
        except ResourceNotFoundError:
            return None
        return {"stamps": entity.get("stamps"), "etag": entity.metadata["etag"]}

    def _write(
        self, partition: str, row_key: str, entity: dict[str, Any] | None, stamps: list[float]
    ) -> bool:
        row = {"PartitionKey": partition, "RowKey": row_key, "stamps": json.dumps(stamps)}
        try:
            if entity is None:
                self._table.create_entity(row)
            else:
                replace_if_unchanged(self._table, row, entity["etag"])
        except (ResourceExistsError, ResourceModifiedError):
            return False
        return True


def _row_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _stamps(entity: dict[str, Any] | None) -> list[float]:
    if entity is None:
        return []
    try:
        values = json.loads(str(entity.get("stamps") or "[]"))
    except ValueError:
        return []
    return sorted(float(v) for v in values if isinstance(v, int | float))
