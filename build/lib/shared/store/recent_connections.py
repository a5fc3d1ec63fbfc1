"""Connection rows as read a few seconds ago, for the webhook: Dynamics fires one webhook per invoice and
per line, often dozens a second for one connection, and each needs only the key's hash, the Dynamics
organisation and the status. Reading the row once per few seconds instead of once per webhook takes most
of the storage traffic off the hottest path.

A cached row may be stale only in the direction the caller can check: the webhook re-reads the row before
it refuses anything (a rotated key, a reconnected organisation), so staleness never loses an event. What
staleness can do is accept an old key or a just-disconnected connection for up to `ttl` seconds."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from shared.store.connections import ConnectionStore
from shared.store.models import Connection

TTL_SECONDS = 5.0
REMEMBERED = 10_000


class RecentConnections:
    def __init__(
        self,
        store: ConnectionStore,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self._ttl, self._clock = store, ttl, clock
        self._rows: OrderedDict[str, tuple[float, Connection]] = OrderedDict()
        self._lock = threading.Lock()

    def recent(self, connection_id: str) -> Connection | None:
        """The row, read at most `ttl` seconds ago (read now when older; a missing row is not cached)."""
        with self._lock:
            cached = self._rows.get(connection_id)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        return self.get(connection_id)

    def get(self, connection_id: str) -> Connection | None:
        """The row as stored now (and remembered for `recent`)."""
        read_at = self._clock()
        connection = self._store.get(connection_id)
        with self._lock:
            if connection is None:
                self._rows.pop(connection_id, None)
                return None
            self._rows[connection_id] = (read_at, connection)
            self._rows.move_to_end(connection_id)
            while len(self._rows) > REMEMBERED:
                self._rows.popitem(last=False)
        return connection

    def verify_webhook_key(self, connection: Connection, presented: str) -> bool:
        return self._store.verify_webhook_key(connection, presented)
