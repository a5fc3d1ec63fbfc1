"""Xero -> Dynamics end to end: a change made in the sandbox Xero (its Accounting API or its control API)
sends Xero's signed webhook to the local host, the queue worker reads the invoice back from Xero and writes
status, amounts and the date fully paid onto the Dynamics invoice. Real HTTP, real Azurite."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from local.azurite import Azurite
from shared import bootstrap
from shared.dataverse import schema
from shared.store.sync_settings import InvoiceStatus
from shared.xero_inbound.changes import WRITE_GRACE
from shared.xero_inbound.signature import sign
from tests.support.world import FAST_HOST, World, running_world


@pytest.fixture(scope="module")
def world(azurite: Azurite) -> Iterator[World]:
    with running_world(azurite, "x2d", host_json=FAST_HOST, xero_webhooks=True) as world:
        # Xero's minute limit is not what these tests are about (tests/integration/test_push_end_to_end.py is)
        limits = {"enabled": False}
        requests.put(f"{world.xero_url}/_sandbox/limits", json=limits, timeout=10).raise_for_status()
        yield world


def _with(settings: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(settings, **changes)


def _amount(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_intent_to_receive_passes_against_the_running_host(world: World) -> None:
    # WHEN the sandbox Xero performs Xero's handshake (a correctly and a wrongly signed empty batch)
    answer = requests.post(f"{world.xero_url}/_sandbox/webhooks/intent", timeout=20).json()
    # THEN the host answered 200 to the first and 401 to the second
    assert answer == {"signed_status": 200, "wrongly_signed_status": 401, "passed": True}


def test_the_answers_are_empty_and_only_the_right_signature_passes(world: World) -> None:
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"ABCDEFGHIJKLMNOPQRST"}'
    good = requests.post(world.webhook_url, data=body, headers={"x-xero-signature": sign(body, world.key)})
    assert (good.status_code, good.content) == (200, b"")
    other_key = requests.post(world.webhook_url, data=body, headers={"x-xero-signature": sign(body, "guess")})
    missing = requests.post(world.webhook_url, data=body)
    tampered = requests.post(
        world.webhook_url,
        data=body.replace(b"ABC", b"ABD"),
        headers={"x-xero-signature": sign(body, world.key)},
    )
    for refused in (other_key, missing, tampered):
        assert (refused.status_code, refused.content) == (401, b"")


def test_approved_in_xero_reaches_dynamics(world: World) -> None:
    invoice, row = world.pushed(InvoiceStatus.DRAFT, "Approve me")
    xero_id = row[schema.INVOICE_XERO_ID]
    # WHEN someone approves it in Xero through the Accounting API
    world.xero_api("POST", "Invoices", {"Invoices": [{"InvoiceID": xero_id, "Status": "AUTHORISED"}]})
    # THEN Dynamics shows it approved, nothing paid, all of it due
    shown = world.shows(invoice, "AUTHORISED")
    total = world.xero_invoice(xero_id)["Total"]
    assert _amount(shown[schema.INVOICE_XERO_AMOUNT_PAID]) == 0
    assert _amount(shown[schema.INVOICE_XERO_AMOUNT_DUE]) == _amount(total)
    assert shown[schema.INVOICE_XERO_PAID_ON] is None
    assert shown["statecode"] == 0


def test_part_paid_then_paid_in_xero_reaches_dynamics(world: World) -> None:
    invoice, row = world.pushed(InvoiceStatus.AUTHORISED, "Pay me in two")
    xero_id = row[schema.INVOICE_XERO_ID]
    total = _amount(world.xero_invoice(xero_id)["Total"])
    # WHEN the customer pays 40 in Xero
    world.pay(xero_id, 40)
    shown = world.user.wait_for(
        invoice, lambda r: r.get(schema.INVOICE_XERO_AMOUNT_PAID) not in (None, 0), timeout=20
    )
    # THEN Dynamics shows the part payment, still approved
    assert shown[schema.INVOICE_XERO_STATUS] == "AUTHORISED"
    assert _amount(shown[schema.INVOICE_XERO_AMOUNT_PAID]) == Decimal("40.00")
    assert _amount(shown[schema.INVOICE_XERO_AMOUNT_DUE]) == total - 40
    # WHEN the rest is paid
    world.pay(xero_id)
    shown = world.shows(invoice, "PAID")
    # THEN Dynamics shows it paid in full, on the day Xero recorded
    assert _amount(shown[schema.INVOICE_XERO_AMOUNT_PAID]) == total
    assert _amount(shown[schema.INVOICE_XERO_AMOUNT_DUE]) == 0
    paid_on = world.xero_invoice(xero_id)["FullyPaidOnDate"]
    assert shown[schema.INVOICE_XERO_PAID_ON] and shown[schema.INVOICE_XERO_PAID_ON] in _iso_of(paid_on)
    assert shown["statecode"] == 0  # the connection does not close paid invoices unless asked


def test_paid_in_xero_closes_the_dynamics_invoice_when_the_connection_says_so(world: World) -> None:
    store = bootstrap.worker().connections()
    store.update(world.connection.id, lambda c: setattr(c, "sync", _with(c.sync, close_paid_invoices=True)))
    try:
        invoice, row = world.pushed(InvoiceStatus.AUTHORISED, "Close me")
        world.pay(row[schema.INVOICE_XERO_ID])
        shown = world.user.wait_for(invoice, lambda r: r.get("statecode") == 2, timeout=20)
    finally:
        store.update(
            world.connection.id, lambda c: setattr(c, "sync", _with(c.sync, close_paid_invoices=False))
        )
    assert shown[schema.INVOICE_XERO_STATUS] == "PAID"
    assert shown["statuscode"] == 100001  # Complete
    assert _amount(shown[schema.INVOICE_XERO_AMOUNT_DUE]) == 0


def test_voided_in_xero_reaches_dynamics(world: World) -> None:
    invoice, row = world.pushed(InvoiceStatus.AUTHORISED, "Void me")
    world.xero_api(
        "POST", "Invoices", {"Invoices": [{"InvoiceID": row[schema.INVOICE_XERO_ID], "Status": "VOIDED"}]}
    )
    shown = world.shows(invoice, "VOIDED")
    assert _amount(shown[schema.INVOICE_XERO_AMOUNT_DUE]) == 0
    assert shown["statecode"] == 0  # voided is not paid: the Dynamics invoice stays open


def test_a_dynamics_edit_after_a_xero_payment_is_left_alone_without_asking_xero(world: World) -> None:
    invoice, row = world.pushed(InvoiceStatus.AUTHORISED, "Edit after payment")
    xero_id = row[schema.INVOICE_XERO_ID]
    world.pay(xero_id, 10)
    before = world.user.wait_for(
        invoice, lambda r: r.get(schema.INVOICE_XERO_AMOUNT_PAID) not in (None, 0), timeout=20
    )
    writes = world.calls("POST", "/api.xro/2.0/Invoices")
    # WHEN the Dynamics user edits the part-paid invoice
    world.user.update("invoices", invoice, {"name": "Edited after the payment"})
    shown = world.user.wait_for(
        invoice, lambda r: r.get(schema.INVOICE_SYNC_ERROR) != before.get(schema.INVOICE_SYNC_ERROR), 20
    )
    # THEN the connector says why it leaves Xero's invoice alone, and sent Xero no update to refuse
    assert "payments in Xero" in shown[schema.INVOICE_SYNC_ERROR]
    assert world.calls("POST", "/api.xro/2.0/Invoices") == writes
    assert world.xero_invoice(xero_id)["Reference"] == "Edit after payment"
    assert shown[schema.INVOICE_XERO_STATUS] == "AUTHORISED"


def test_an_invoice_the_connector_never_sent_is_acknowledged_and_ignored(world: World) -> None:
    # GIVEN an approved invoice made in Xero itself (no Dynamics invoice carries its id)
    created = world.xero_api(
        "PUT",
        "Invoices",
        {"Invoices": [{"Type": "ACCREC", "Contact": {"Name": "Walk-in " + uuid.uuid4().hex[:6]},
                       "DueDate": "2030-01-31", "Status": "AUTHORISED",
                       "LineItems": [{"Description": "Cash sale", "Quantity": 1, "UnitAmount": 10,
                                      "AccountCode": "200"}]}]},
    )  # fmt: skip
    xero_id = created["Invoices"][0]["InvoiceID"]
    reads = world.calls("GET", "/api.xro/2.0/Invoices")
    # WHEN it is paid in Xero (a signed webhook reaches the host)
    world.pay(xero_id)
    _wait_for_delivery(world, xero_id)
    time.sleep(1.5)
    # THEN the event was acknowledged (200) and cost no Xero read: Dynamics knows no such invoice
    assert world.calls("GET", "/api.xro/2.0/Invoices") == reads


def _wait_for_delivery(world: World, resource_id: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliveries = requests.get(f"{world.xero_url}/_sandbox/webhooks", timeout=10).json()["deliveries"]
        if deliveries and deliveries[-1]["status"] == 200:
            return
        time.sleep(0.1)
    raise AssertionError("the sandbox Xero's webhook was not answered 200")


def _iso_of(xero_date: str) -> str:
    from shared.xero_inbound.changes import _moment

    moment = _moment(xero_date)
    return moment.date().isoformat() if moment else ""


# -- the sweep ----------------------------------------------------------------------------------------------
def _dataverse(world: World, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    session = requests.Session()
    session.trust_env, session.verify = False, str(world.stack.dataverse.ca_path)
    answer = session.request(method, f"{world.stack.dataverse.url}/_sandbox/{path}", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()


def _total_calls(world: World) -> tuple[int, int]:
    dataverse = _dataverse(world, "GET", "requests")["requests"]
    xero = requests.get(f"{world.xero_url}/_sandbox/requests", timeout=10).json()
    return sum(c["count"] for c in dataverse), sum(c["count"] for c in xero)


def _sweep(world: World) -> Any:
    from shared.xero_inbound.sweep import sweep_all

    results = sweep_all(bootstrap.worker().sweeper())
    return next(r for r in results if r.connection_id == world.connection.id)


def test_the_sweep_heals_a_lost_dynamics_webhook(world: World) -> None:
    # GIVEN Dynamics loses the webhooks of a new invoice and its line (the app was down; no retry)
    account = world.new_account()
    _dataverse(world, "PUT", "limits", {"webhook_drop_next": 100})
    try:
        invoice = world.user.create_invoice(
            "Lost webhook", ("account", account), [{"description": "Support"}]
        )
        _dataverse(world, "POST", "deliveries/wait?timeout=10")
    finally:
        _dataverse(world, "PUT", "limits", {"webhook_drop_next": 0})
    time.sleep(1)
    assert not world.user.invoice(invoice).get(schema.INVOICE_XERO_ID)
    # WHEN the sweep runs
    result = _sweep(world)
    # THEN it found the gap, and the usual push brought the invoice to Xero
    assert result.dynamics_gaps >= 1
    row = world.user.wait_for(invoice, lambda r: bool(r.get(schema.INVOICE_XERO_ID)), 30)
    assert world.xero_invoice(row[schema.INVOICE_XERO_ID])["Reference"] == "Lost webhook"


def test_the_sweep_heals_a_lost_xero_webhook_and_an_idle_sweep_costs_one_call_a_side(world: World) -> None:
    invoice, row = world.pushed(InvoiceStatus.AUTHORISED, "Paid while nobody listened")
    xero_id = row[schema.INVOICE_XERO_ID]
    _dataverse(world, "POST", "deliveries/wait?timeout=10")  # the line's webhook too has been handled
    time.sleep(2)
    _sweep(world)  # what was pushed is in step: nothing to heal
    # GIVEN Xero's webhook of a payment is lost
    webhooks = f"{world.xero_url}/_sandbox/webhooks"
    requests.put(webhooks, json={"drop_rate": 1.0}, timeout=10).raise_for_status()
    try:
        world.pay(xero_id)  # the event is dropped as it is published, inside this call
    finally:
        requests.put(webhooks, json={"drop_rate": 0.0}, timeout=10).raise_for_status()
    assert xero_id in requests.get(webhooks, timeout=10).json()["dropped"]
    time.sleep(1.5)
    assert world.user.invoice(invoice)[schema.INVOICE_XERO_STATUS] == "AUTHORISED"
    # WHEN the sweep runs
    result = _sweep(world)
    # THEN it queued the gap and Dynamics shows the payment
    assert result.xero_gaps == 1
    shown = world.shows(invoice, "PAID")
    assert _amount(shown[schema.INVOICE_XERO_AMOUNT_DUE]) == 0
    time.sleep(1.5)  # the worker's queue has drained
    # AND a sweep that finds nothing asks each side once
    before = _total_calls(world)
    idle = _sweep(world)
    after = _total_calls(world)
    assert (idle.dynamics_gaps, idle.xero_gaps) == (0, 0)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


def _writes_settled(world: World, invoice: str, quiet: float = 2.0, timeout: float = 60) -> None:
    """Until the connector's last write on the invoice has stood still for `quiet` seconds and lies beyond the
    sweep's write grace: under load, the Xero webhook of the push itself can still be written back a few
    seconds later, and an edit inside the grace of that write is (by design) not counted as a gap."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while True:
        stamp = world.user.invoice(invoice).get(schema.INVOICE_SYNCED_ON)
        if stamp != last:
            last, since = stamp, time.monotonic()
        elif time.monotonic() - since >= max(quiet, WRITE_GRACE.total_seconds() + 1):
            return
        assert time.monotonic() < deadline, f"the connector kept writing on the invoice: {stamp}"
        time.sleep(0.2)


def test_the_sweep_heals_a_lost_webhook_of_an_edit(world: World) -> None:
    invoice, row = world.pushed(InvoiceStatus.AUTHORISED, "Before the edit")
    _dataverse(world, "POST", "deliveries/wait?timeout=10")
    _writes_settled(world, invoice)  # the connector's last write is well behind
    _sweep(world)
    _writes_settled(world, invoice)
    _dataverse(world, "PUT", "limits", {"webhook_drop_next": 100})
    try:
        world.user.update("invoices", invoice, {"name": "After the lost edit"})
        _dataverse(world, "POST", "deliveries/wait?timeout=10")
    finally:
        _dataverse(world, "PUT", "limits", {"webhook_drop_next": 0})
    result = _sweep(world)
    assert result.dynamics_gaps >= 1, result
    deadline = time.monotonic() + 45
    while world.xero_invoice(row[schema.INVOICE_XERO_ID])["Reference"] != "After the lost edit":
        shown = world.user.invoice(invoice)
        assert time.monotonic() < deadline, {
            k: v for k, v in shown.items() if k.startswith(("dxc_", "modifiedon"))
        }
        time.sleep(0.2)
