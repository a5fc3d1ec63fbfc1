"""Timer and queue sides of the reference refresh: the timer only enqueues one message per active
connection, so a slow or rate-limited organisation holds up nobody; each message refreshes one connection
and records the outcome (time, counts, last error — metadata only) on it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from shared.errors import FatalError, RetriableError
from shared.reference.refresh import Dataverse, Xero, refresh
from shared.store.models import Connection

log = logging.getLogger(__name__)
MAX_DEFER_SECONDS = 7 * 24 * 3600 - 60


class Connections(Protocol):
    def get(self, connection_id: str) -> Connection | None: ...

    def list_active(self) -> list[Connection]: ...

    def update(
        self, connection_id: str, mutate: Callable[[Connection], None], retries: int = 5
    ) -> Connection: ...


@dataclass
class RefreshParts:
    connections: Connections
    dataverse_for: Callable[[Connection], Dataverse]
    xero_for: Callable[[Connection], Xero]
    send: Callable[[str, int], Any]  # (message body, visibility delay in seconds)
    now: Callable[[], datetime]
    entity_sets: dict[str, dict[str, str]] = field(default_factory=dict)  # org url → table → entity set


def refresh_message(connection_id: str) -> str:
    return json.dumps({"kind": "reference", "connection_id": connection_id})


def enqueue_all(parts: RefreshParts) -> int:
    """One refresh per active connection (disconnected and unfinished ones have nothing to refresh)."""
    connections = [c for c in parts.connections.list_active() if c.xero.tenant_id and c.dynamics.org_url]
    for connection in connections:
        parts.send(refresh_message(connection.id), 0)
    return len(connections)


def handle_refresh_message(body: str, invocation_id: str, parts: RefreshParts) -> str:
    try:
        connection_id = str(json.loads(body)["connection_id"])
    except (ValueError, KeyError, TypeError):
        log.error("invocation %s: dropped a message that is not a reference refresh", invocation_id)
        return "bad-message"
    connection = parts.connections.get(connection_id)
    # A disconnected one has nothing to refresh. A draft has: the portal offers the sync once both of
    # its lights are green, before "Start syncing", so the defaults can be chosen from Xero's lists.
    if connection is None or connection.status == "disconnected":
        return "no-connection"
    try:
        sets = parts.entity_sets.setdefault(connection.dynamics.org_url, {})
        xero = _Remembered(parts.xero_for(connection))
        report = refresh(xero, parts.dataverse_for(connection), sets)
    except RetriableError as error:
        _record(parts, connection_id, error=f"will retry: {error}")
        if error.retry_after is not None:
            parts.send(body, int(min(max(error.retry_after, 1), MAX_DEFER_SECONDS)))
            log.info(
                "connection %s: reference refresh deferred %.0f s: %s",
                connection_id,
                error.retry_after,
                error,
            )
            return "deferred"
        raise
    except FatalError as error:
        _record(parts, connection_id, error=str(error))
        log.warning("connection %s: reference refresh failed: %s", connection_id, error)
        return "failed"
    _record(parts, connection_id, counts=report.counts)
    log.info("connection %s: reference data refreshed, %s rows written", connection_id, report.writes)
    _preflight(parts, connection, xero)
    return "refreshed"


class _Remembered:
    """Xero for one refresh and the pre-flight check after it: a list the refresh read (Accounts,
    TaxRates, BrandingThemes, Currencies...) is not read again by the check."""

    def __init__(self, xero: Xero) -> None:
        self._xero, self._seen = xero, dict[str, Any]()
        self.web_url = str(getattr(xero, "web_url", "https://go.xero.com"))

    def get(self, resource: str, params: dict[str, Any] | None = None) -> Any:
        if params:
            return self._xero.get(resource, params)
        if resource not in self._seen:
            self._seen[resource] = self._xero.get(resource)
        return self._seen[resource]

    def get_all(self, resource: str, key: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return list(cast(Any, self._xero).get_all(resource, key, params))


def _preflight(parts: RefreshParts, connection: Connection, xero: _Remembered) -> None:
    """After each refresh, the pre-flight check (reads only); its findings go on the connection. The
    refresh is done whatever happens here: a check that cannot run now runs after the next one."""
    from shared.reference.preflight import run_and_keep

    try:
        dataverse = parts.dataverse_for(connection)
        run_and_keep(parts.connections, connection, xero, dataverse, xero.web_url, parts.now())
    except (RetriableError, FatalError) as error:
        log.warning("connection %s: pre-flight check not run: %s", connection.id, error)


def _record(
    parts: RefreshParts, connection_id: str, counts: dict[str, int] | None = None, error: str = ""
) -> None:
    def apply(connection: Connection) -> None:
        if counts is not None:
            connection.reference.last_refresh_at = parts.now()
            connection.reference.counts = counts
        connection.reference.last_error = error[:500]

    parts.connections.update(connection_id, apply)
