"""The webhook reads a connection's row at most every few seconds, and never refuses on a stale one: a key
rotated or an organisation reconnected a moment ago is checked against the row as stored now."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from shared.store.connections import ConnectionStore
from shared.store.models import Connection, DynamicsSide
from shared.store.recent_connections import RecentConnections
from shared.sync.events import InvoiceEvent
from shared.sync.intake import accept_webhook

EVENTS = Path(__file__).resolve().parents[1] / "events"
CONNECTION = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


class Store:
    """The table, as far as the webhook uses it: rows by id, and the key each row accepts."""

    def __init__(self, organisation: str, key: str) -> None:
        self.rows = {CONNECTION: _row(organisation, key)}
        self.reads = 0

    def get(self, connection_id: str) -> Connection | None:
        self.reads += 1
        return self.rows.get(connection_id)

    def verify_webhook_key(self, connection: Connection, presented: str) -> bool:
        return presented == connection.dynamics.webhook_key_hash  # the fake keeps the key itself


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _row(organisation: str, key: str) -> Connection:
    connection = Connection(CONNECTION, "account", status="active")
    connection.dynamics = DynamicsSide(organisation_id=organisation, webhook_key_hash=key)
    return connection


def _recent(store: Store, clock: Clock) -> RecentConnections:
    return RecentConnections(cast(ConnectionStore, store), ttl=5.0, clock=clock)


def _webhook(connections: RecentConnections, key: str) -> tuple[int, list[InvoiceEvent]]:
    document: dict[str, Any] = json.loads((EVENTS / "invoice_create.json").read_text())
    queued: list[InvoiceEvent] = []
    answer = accept_webhook(
        json.dumps(document).encode(), {}, key, connections, queued.append, lambda: datetime.now(UTC)
    )
    return answer.status, queued


def _organisation() -> str:
    return str(json.loads((EVENTS / "invoice_create.json").read_text())["OrganizationId"])


def test_a_burst_of_webhooks_reads_the_row_once_per_few_seconds() -> None:
    store, clock = Store(_organisation(), f"{CONNECTION}.one"), Clock()
    recent = _recent(store, clock)
    statuses = [_webhook(recent, f"{CONNECTION}.one")[0] for _ in range(20)]
    assert statuses == [202] * 20 and store.reads == 1
    clock.now += 6
    assert _webhook(recent, f"{CONNECTION}.one")[0] == 202 and store.reads == 2


def test_a_key_rotated_a_moment_ago_is_accepted_not_refused_on_the_stale_row() -> None:
    store, clock = Store(_organisation(), f"{CONNECTION}.old"), Clock()
    recent = _recent(store, clock)
    assert _webhook(recent, f"{CONNECTION}.old")[0] == 202
    store.rows[CONNECTION] = _row(_organisation(), f"{CONNECTION}.new")  # Install into Dynamics again
    status, queued = _webhook(recent, f"{CONNECTION}.new")
    assert status == 202 and len(queued) == 1
    assert _webhook(recent, f"{CONNECTION}.wrong")[0] == 401  # a wrong key is still refused


def test_an_organisation_reconnected_a_moment_ago_is_checked_on_the_fresh_row() -> None:
    store, clock = Store("00000000-0000-0000-0000-000000000001", f"{CONNECTION}.k"), Clock()
    recent = _recent(store, clock)
    assert _webhook(recent, f"{CONNECTION}.k")[0] == 403
    store.rows[CONNECTION] = _row(_organisation(), f"{CONNECTION}.k")
    assert _webhook(recent, f"{CONNECTION}.k")[0] == 202
