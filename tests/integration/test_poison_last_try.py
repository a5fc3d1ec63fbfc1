"""The poison function's last try: a message whose retries ran out while another event of the same invoice
pushed it must not write a failure onto an invoice that is in Xero. (One that still fails says why:
test_push_end_to_end's test_retries_run_out_and_the_reason_is_written_back.)"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.azurite import Azurite
from local.dynamics_user import DynamicsUser
from local.stack import LocalStack
from shared import bootstrap
from shared.dataverse import schema
from shared.sync.events import InvoiceEvent
from shared.sync.worker import MAX_DEFERRALS, handle_invoice_message, handle_poison_message

FAST_HOST = Path(__file__).with_name("fast_host.json")


class World:
    def __init__(self, stack: LocalStack, connection: Any) -> None:
        self.stack, self.connection, self.user = stack, connection, DynamicsUser(stack.dataverse)

    def invoice(self, name: str) -> str:
        response = self.user.session.post(
            self.user.base + "accounts",
            json={"name": f"Poison {uuid.uuid4().hex[:6]}", "accountnumber": uuid.uuid4().hex[:8]},
            timeout=10,
        )
        account = response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
        return self.user.create_invoice(name, ("account", account), [{"description": "A"}])

    def xero_invoices(self, reference: str) -> list[dict[str, Any]]:
        tenant = self.connection.xero.tenant_id
        found = requests.get(f"{self.stack.xero.url}/_sandbox/orgs/{tenant}/Invoices", timeout=10).json()
        return [i for i in found if i.get("Reference") == reference]

    def poison(self, invoice: str) -> str:
        # received by another instance long ago: nothing in this worker's memory covers it
        event = InvoiceEvent(
            self.connection.id, invoice, received_at="2000-01-01T00:00:00+00:00", received_by="other"
        )
        return handle_poison_message(event.to_json(), "test-invocation", bootstrap.worker().invoice_worker())

    def deferred_already(self, invoice: str, deferrals: int) -> str:
        event = InvoiceEvent(
            self.connection.id, invoice, received_at="2000-01-01T00:00:00+00:00", received_by="other",
            deferrals=deferrals,
        )  # fmt: skip
        return handle_invoice_message(
            event.to_json(), 1, "test-invocation", bootstrap.worker().invoice_worker()
        )


@pytest.fixture(scope="module")
def world(azurite: Azurite) -> Iterator[World]:
    stack = LocalStack(prefix="pz" + uuid.uuid4().hex[:8], azurite=azurite, host_json=FAST_HOST).start()
    try:
        yield World(stack, stack.onboard())
    finally:
        stack.stop()


def test_a_poison_message_of_an_invoice_pushed_meanwhile_writes_no_failure(world: World) -> None:
    # GIVEN an invoice that another event already pushed
    invoice = world.invoice("Pushed by a sibling")
    row = world.user.wait_for(invoice, lambda r: bool(r.get(schema.INVOICE_XERO_ID)))
    # WHEN a poison message of that invoice is handled (once the invoice's other events are through)
    outcome = world.poison(invoice)
    for _ in range(20):
        if outcome != "deferred":  # "this invoice is being pushed right now": a line's event
            break
        time.sleep(0.5)
        outcome = world.poison(invoice)
    # THEN it finds the invoice pushed (covered by this worker's last push, or unchanged since it): no
    # failure written on it, still one Xero invoice
    assert outcome in ("covered", "unchanged")
    after = world.user.invoice(invoice)
    assert after[schema.INVOICE_SYNC_ERROR] == ""
    assert after[schema.INVOICE_XERO_ID] == row[schema.INVOICE_XERO_ID]
    assert len(world.xero_invoices("Pushed by a sibling")) == 1


def test_an_event_told_to_wait_too_often_gives_up_and_says_why(world: World) -> None:
    # GIVEN a Xero that answers every call with 429 and a Retry-After (issue 16: a server that throttles
    # for ever would otherwise keep the event, and our calls, alive indefinitely)
    faults = world.stack.xero.state.faults
    faults.update({"throttle_rate": 1.0, "throttle_retry_after": 1})
    try:
        invoice = world.invoice("Throttled for ever")
        # WHEN an event that already waited MAX_DEFERRALS - 1 times meets it: it waits once more
        assert world.deferred_already(invoice, MAX_DEFERRALS - 1) == "deferred"
        # WHEN one that waited MAX_DEFERRALS times meets it: it gives up
        outcome = world.deferred_already(invoice, MAX_DEFERRALS)
        # THEN the reason is written on the invoice, and nothing reached Xero
        assert outcome == "failed"
        error = world.user.invoice(invoice)[schema.INVOICE_SYNC_ERROR]
        assert f"wait {MAX_DEFERRALS} times" in error
        assert world.xero_invoices("Throttled for ever") == []
    finally:
        faults.update({"throttle_rate": 0.0})
