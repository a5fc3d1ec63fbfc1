"""Each Xero organisation's call ledger in table storage, so every instance spends the same minute
(the rule and why a ledger: shared/xero/budget.py).

One row per organisation: PartitionKey = its Xero tenant id, RowKey "minute". A grant is computed on
the row as this process last saw it and written with that ETag: one table call when no other instance
wrote since; after a 412 the row is read again (two more). A refusal needs no write: the row seen can
only have had calls added since, and calls only leave it with time, so the row as it is now refuses too
(unless a higher class must be marked as waiting). The row also counts its own cost — writes, reads and
lost races, and calls granted — so a benchmark reads the table calls per Xero call from it."""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient

from shared.config import Settings
from shared.store.tables import replace_if_unchanged, table_client
from shared.xero.budget import Grant, Limits, Priority, Window, grant, peek

XERO_BUDGET = "xerobudget"
ROW = "minute"
RACE_RETRIES = 10
COSTS = ("Writes", "Reads", "Races", "Granted")


@dataclass
class _Seen:
    window: Window
    etag: str | None  # None: no row yet
    costs: dict[str, int]


class TableLedger:
    def __init__(
        self,
        table: TableClient | Callable[[], TableClient],
        limits: Limits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # a factory is called on the first take: building the worker's gate makes no storage call
        self._table_or_factory, self.limits, self._clock = table, limits, clock
        self._lock = threading.Lock()
        self._seen: dict[str, _Seen] = {}
        self._locks: dict[str, threading.Lock] = {}
        # table calls this process made that no write has counted into the row yet
        self._unsaved: dict[str, dict[str, int]] = {}
        self._raced: dict[str, float] = {}  # when a write of ours last lost a race, per organisation

    @classmethod
    def from_settings(cls, settings: Settings) -> TableLedger:
        minute = settings.xero_minute_seconds
        # a grant's calls may wait a thirtieth of the minute (2 s against Xero, at least 1 s) to start:
        # one is made at once, the others by this instance's threads that were waiting for it
        limits = Limits(minute=minute, hold=max(1.0, minute / 30))
        return cls(functools.partial(table_client, settings, XERO_BUDGET), limits)

    @functools.cached_property
    def _table(self) -> TableClient:
        given = self._table_or_factory
        return given if isinstance(given, TableClient) else given()

    def take(self, tenant_id: str, want: int, priority: Priority, holder: str) -> Grant:
        with self._tenant_lock(tenant_id):
            seen = self._seen.get(tenant_id) or self._read(tenant_id)
            fresh = False
            for _ in range(RACE_RETRIES):
                window = copy.deepcopy(seen.window)
                answer = grant(window, self._clock(), want, priority, holder, self.limits)
                if not answer.calls and not answer.marked:
                    return answer
                if not fresh and self._contended(tenant_id):
                    # other instances write this row too: the row as seen is likely old, and a write
                    # on it would cost a lost race and a read; read first
                    seen, fresh = self._read(tenant_id), True
                    continue
                if self._write(tenant_id, seen, window, answer.calls):
                    return answer
                self._count(tenant_id, "Races")
                self._raced[tenant_id] = self._clock()
                seen, fresh = self._read(tenant_id), True
            # lost every race: under that much contention, waiting a moment is the safe answer
            return Grant(0, 1.0, 1)

    def peek(self, tenant_id: str, priority: Priority) -> float:
        seen = self._seen.get(tenant_id)  # no lock: a take in progress may hold it through its I/O
        return peek(seen.window if seen else None, self._clock(), priority, self.limits)

    def block(self, tenant_id: str, until: float) -> None:
        with self._tenant_lock(tenant_id):
            seen = self._read(tenant_id)
            for _ in range(RACE_RETRIES):
                if seen.window.blocked_until >= until:
                    return
                window = copy.deepcopy(seen.window)
                window.blocked_until = until
                if self._write(tenant_id, seen, window, 0):
                    return
                self._count(tenant_id, "Races")
                seen = self._read(tenant_id)

    def costs(self, tenant_id: str) -> dict[str, int]:
        """What the row says it cost so far (every instance's calls that a write has counted)."""
        return self._read(tenant_id).costs

    # -- the row ----------------------------------------------------------------------------------------
    def _read(self, tenant_id: str) -> _Seen:
        self._count(tenant_id, "Reads")
        try:
            entity = self._table.get_entity(tenant_id, ROW)
        except ResourceNotFoundError:
            seen = _Seen(Window(), None, dict.fromkeys(COSTS, 0))
        else:
            seen = _Seen(
                _window(entity), entity.metadata["etag"], {k: int(entity.get(k) or 0) for k in COSTS}
            )
        self._seen[tenant_id] = seen
        return seen

    def _write(self, tenant_id: str, seen: _Seen, window: Window, granted: int) -> bool:
        self._count(tenant_id, "Writes")
        unsaved = self._unsaved.pop(tenant_id, {})
        costs = {k: seen.costs.get(k, 0) + unsaved.get(k, 0) for k in COSTS}
        costs["Granted"] += granted
        row = {"PartitionKey": tenant_id, "RowKey": ROW, **_columns(window), **costs}
        try:
            if seen.etag is None:
                written = self._table.create_entity(row)
            else:
                written = replace_if_unchanged(self._table, row, seen.etag)
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            for key, value in unsaved.items():  # counted by the next write that succeeds
                self._count(tenant_id, key, value)
            return False
        self._seen[tenant_id] = _Seen(window, str(written.get("etag")), costs)
        return True

    def _count(self, tenant_id: str, what: str, calls: int = 1) -> None:
        unsaved = self._unsaved.setdefault(tenant_id, {})
        unsaved[what] = unsaved.get(what, 0) + calls

    def _contended(self, tenant_id: str) -> bool:
        """Another instance wrote between our read and our write within the last minute."""
        return self._clock() - self._raced.get(tenant_id, float("-inf")) < self.limits.minute

    def _tenant_lock(self, tenant_id: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(tenant_id, threading.Lock())


def _columns(window: Window) -> dict[str, Any]:
    return {
        "Grants": json.dumps([[round(t, 3), n, h] for t, n, h in window.grants]),
        "Day": json.dumps(window.day),
        "BlockedUntil": float(window.blocked_until),
        "Waiting": json.dumps({str(c): round(u, 3) for c, u in window.waiting.items()}),
    }


def _window(entity: dict[str, Any]) -> Window:
    try:
        grants = [(float(t), int(n), str(h)) for t, n, h in json.loads(str(entity.get("Grants") or "[]"))]
        day = [(int(b), int(n)) for b, n in json.loads(str(entity.get("Day") or "[]"))]
        waiting = {int(c): float(u) for c, u in json.loads(str(entity.get("Waiting") or "{}")).items()}
    except (ValueError, TypeError):  # a row we cannot read: start again rather than never call
        grants, day, waiting = [], [], {}
    return Window(grants, day, float(entity.get("BlockedUntil") or 0.0), waiting)
