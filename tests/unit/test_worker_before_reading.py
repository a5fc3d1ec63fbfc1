"""Under a burst most invoice messages only have to wait for their organisation's Xero minute, or were
already covered by a finished push: the worker decides both from the message alone, without reading the
connection's row (a storage call per message that would only say what it said a moment ago)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from shared.store.models import Connection
from shared.sync.coalesce import PROCESS, InvoiceGate
from shared.sync.events import InvoiceEvent
from shared.sync.worker import Collaborators, handle_invoice_message
from shared.xero.pacing import MINUTE_LIMIT, RateGate

CONNECTION, TENANT = "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "tenant-1"
INVOICES = [f"7c9e6679-7425-40de-944b-e07fc1f90ae{n}" for n in range(3)]


class Rows:
    """The connection table, counting reads; this test never gets as far as a push."""

    def __init__(self) -> None:
        self.reads = 0

    def get(self, connection_id: str) -> Connection | None:
        self.reads += 1
        return None  # a push would need a real row: the tests below must not get this far


def _parts(rows: Rows, requeued: list[tuple[str, int]], pacing: RateGate) -> Collaborators:
    unused = cast(Any, None)
    return Collaborators(
        connections=rows,
        dataverse_for=unused,
        xero_for=unused,
        catalog=unused,
        activity=unused,
        requeue=lambda body, delay: requeued.append((body, delay)),
        now=lambda: datetime.now(UTC),
        gate=InvoiceGate(),
        pacing=pacing,
        tenants={CONNECTION: TENANT},
    )


def _event(invoice: str) -> str:
    now = datetime.now(UTC).isoformat()
    return InvoiceEvent(CONNECTION, invoice, received_at=now, received_by=PROCESS).to_json()


def _full_minute() -> RateGate:
    gate = RateGate(minute=60.0, jitter=lambda: 0.0)
    gate.observe(TENANT, {"X-MinLimit-Remaining": "0"})  # Xero: this organisation's minute is spent
    return gate


def test_a_message_for_a_full_minute_is_deferred_without_reading_the_connection() -> None:
    rows, requeued = Rows(), []  # type: ignore[var-annotated]
    parts = _parts(rows, requeued, _full_minute())
    outcome = handle_invoice_message(_event(INVOICES[0]), 1, "invocation-1", parts)
    assert outcome == "deferred" and rows.reads == 0
    assert len(requeued) == 1 and requeued[0][1] >= 1


def test_an_event_a_finished_push_covered_completes_without_reading_the_connection() -> None:
    rows, requeued = Rows(), []  # type: ignore[var-annotated]
    parts = _parts(rows, requeued, RateGate())
    body = _event(INVOICES[1])
    parts.gate.pushed(CONNECTION, INVOICES[1], datetime.now(UTC) + timedelta(seconds=1))
    assert handle_invoice_message(body, 1, "invocation-2", parts) == "covered"
    assert rows.reads == 0 and requeued == []


def test_with_room_in_the_minute_the_connection_is_read() -> None:
    rows, requeued = Rows(), []  # type: ignore[var-annotated]
    gate = RateGate(minute=60.0, jitter=lambda: 0.0)
    gate.observe(TENANT, {"X-MinLimit-Remaining": str(MINUTE_LIMIT)})
    parts = _parts(rows, requeued, gate)
    assert handle_invoice_message(_event(INVOICES[2]), 1, "invocation-3", parts) == "no-connection"
    assert rows.reads == 1 and requeued == []
