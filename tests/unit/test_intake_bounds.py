"""What the webhook puts on the queue stays small whatever the body carries, and a queue that cannot be
reached is answered with the status Dynamics retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from shared.store.models import Connection, DynamicsSide
from shared.sync.events import InvoiceEvent
from shared.sync.intake import accept_webhook

EVENTS = Path(__file__).resolve().parents[1] / "events"
CONNECTION = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
KEY = f"{CONNECTION}.secret"


class Connections:
    def __init__(self, organisation: str) -> None:
        self.connection = Connection(CONNECTION, "account", status="active")
        self.connection.dynamics = DynamicsSide(organisation_id=organisation)

    def get(self, connection_id: str) -> Connection | None:
        return self.connection if connection_id == CONNECTION else None

    recent = get

    def verify_webhook_key(self, connection: Connection, presented: str) -> bool:
        return presented == KEY


def _body(**changes: object) -> tuple[bytes, str]:
    document = json.loads((EVENTS / "invoice_create.json").read_text())
    document.update(changes)
    return json.dumps(document).encode(), str(document["OrganizationId"])


def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def test_an_enormous_correlation_id_is_not_carried_onto_the_queue() -> None:
    # GIVEN a webhook whose CorrelationId is 100,000 characters (a queue message holds 64 KB)
    body, organisation = _body(CorrelationId="x" * 100_000)
    queued: list[InvoiceEvent] = []
    # WHEN it is accepted
    answer = accept_webhook(body, {}, KEY, Connections(organisation), queued.append, _now)
    # THEN the invoice is queued, with a small message and no correlation id
    assert answer.status == 202
    assert [e.correlation_id for e in queued] == [None]
    assert len(queued[0].to_json()) < 1000


def test_a_guid_correlation_id_is_kept() -> None:
    body, organisation = _body()
    queued: list[InvoiceEvent] = []
    accept_webhook(body, {}, KEY, Connections(organisation), queued.append, _now)
    assert queued[0].correlation_id == "b374239d-4233-41a9-8b17-a86cb4f737b5"


def test_a_queue_that_cannot_be_reached_is_answered_503_so_dynamics_retries() -> None:
    body, organisation = _body()

    def unreachable(event: InvoiceEvent) -> None:
        raise ConnectionError("storage is down")

    answer = accept_webhook(body, {}, KEY, Connections(organisation), unreachable, _now)
    assert answer.status == 503
