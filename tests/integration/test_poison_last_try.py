"""The poison function's last try: a message whose retries ran out while another event of the same invoice
pushed it must not write a failure onto an invoice that is in Xero. (One that still fails says why:
test_push_end_to_end's test_retries_run_out_and_the_reason_is_written_back.)"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from local.azurite import Azurite
from shared.dataverse import schema
from shared.sync.worker import MAX_DEFERRALS
from tests.support.world import FAST_HOST, World, running_world


@pytest.fixture(scope="module")
def world(azurite: Azurite) -> Iterator[World]:
    with running_world(azurite, "pz", host_json=FAST_HOST) as world:
        yield world


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
