"""The invoice push end to end: a Dynamics user saves an invoice in the sandbox Dataverse, its webhook
reaches the local host, the queue worker pushes it to the sandbox Xero and writes the result back.
Everything over real HTTP, on real Azurite; assertions on what Xero and Dynamics then hold."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
import requests

from local.azurite import Azurite
from shared import bootstrap
from shared.dataverse import schema
from shared.store.activity import InvoiceActivity
from shared.store.sync_settings import InvoiceStatus
from shared.sync.events import InvoiceEvent
from tests.support.world import FAST_HOST, World, running_world


@pytest.fixture(scope="module")
def world(azurite: Azurite) -> Iterator[World]:
    with running_world(azurite, "e2e", host_json=FAST_HOST) as world:
        yield world


@pytest.fixture(autouse=True)
def calm_xero(world: World) -> Iterator[None]:
    world.faults(error_rate=0, slow_rate=0, lost_rate=0, latency_ms=0)
    world.stack.reset_xero_limits()
    yield
    world.faults(error_rate=0, slow_rate=0, lost_rate=0, latency_ms=0)
    requests.put(f"{world.xero_url}/_sandbox/limits", json={"minute": 60, "time_scale": 1.0}, timeout=10)


def test_new_customer_new_products_and_a_write_in_line(world: World) -> None:
    account = world.new_account()
    contacts_before = world.calls("PUT", "/api.xro/2.0/Contacts")
    invoice = world.user.create_invoice(
        "First order",
        ("account", account),
        [
            {"product": world.product("WIDGET-01"), "quantity": 4},
            {"description": "Installation", "price": 80},
        ],
    )
    row = world.synced(invoice)
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    xero_invoice = world.xero_invoice(row[schema.INVOICE_XERO_ID])
    assert row[schema.INVOICE_XERO_STATUS] == xero_invoice["Status"] == "DRAFT"
    assert row[schema.INVOICE_XERO_NUMBER] == xero_invoice["InvoiceNumber"] == row["invoicenumber"]
    # the link opens that invoice where it is: here the sandbox Xero's own page of it
    link = f"{world.xero_url}/AccountsReceivable/View.aspx?InvoiceID={xero_invoice['InvoiceID']}"
    [organisation] = world.xero("Organisation")  # behind the switch to this invoice's organisation
    switch = f"{world.xero_url}/organisationlogin/default.aspx?shortcode={quote(organisation['ShortCode'])}"
    assert row[schema.INVOICE_XERO_URL] == f"{switch}&redirecturl={quote(link[len(world.xero_url) :])}"
    assert xero_invoice["InvoiceNumber"] in requests.get(row[schema.INVOICE_XERO_URL], timeout=10).text
    lines = xero_invoice["LineItems"]
    assert [line.get("ItemCode") for line in lines] == ["WIDGET-01", None]
    assert lines[1]["Description"] == "Installation"
    assert "WIDGET-01" in {item["Code"] for item in world.xero("Items")}
    # the customer became one Xero contact, whose id is now on the Dynamics account
    account_row = world.user.get(f"accounts({account})")
    contact_id = account_row[schema.CUSTOMER_XERO_CONTACT_ID]
    assert xero_invoice["Contact"]["ContactID"] == contact_id
    assert world.calls("PUT", "/api.xro/2.0/Contacts") == contacts_before + 1


def test_a_known_customer_gets_no_second_contact(world: World) -> None:
    account = world.new_account()
    first = world.user.create_invoice("One", ("account", account), [{"description": "A", "price": 1}])
    world.synced(first)
    contacts_before = world.calls("PUT", "/api.xro/2.0/Contacts")
    second = world.user.create_invoice("Two", ("account", account), [{"description": "B", "price": 2}])
    row = world.synced(second)
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    assert world.calls("PUT", "/api.xro/2.0/Contacts") == contacts_before


def test_a_customer_whose_name_is_already_in_xero_is_matched_not_duplicated(world: World) -> None:
    name = f"Existing Ltd {uuid.uuid4().hex[:6]}"
    xero = bootstrap.worker().xero_for(bootstrap.worker().connections().require(world.connection.id))
    existing = xero.write("PUT", "Contacts", "Contacts", [{"Name": name}], f"seed-{name}")[0].element
    invoice = world.user.create_invoice("Order", ("account", world.new_account(name)), [{"description": "A"}])
    row = world.synced(invoice)
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    assert world.xero_invoice(row[schema.INVOICE_XERO_ID])["Contact"]["ContactID"] == existing["ContactID"]
    assert [c["Name"] for c in world.xero("Contacts")].count(name) == 1


def test_a_changed_product_updates_its_xero_item(world: World) -> None:
    product = world.product("GADGET-02")
    world.synced(world.user.create_invoice("G1", ("account", world.new_account()), [{"product": product}]))
    world.user.update("products", product, {"name": "Gadget Mark II"})
    world.synced(world.user.create_invoice("G2", ("account", world.new_account()), [{"product": product}]))
    item = next(i for i in world.xero("Items") if i["Code"] == "GADGET-02")
    assert item["Name"] == "Gadget Mark II"


def test_discounts_and_a_foreign_currency(world: World) -> None:
    invoice = world.user.create_invoice(
        "Discounted",
        ("account", world.new_account()),
        [{"description": "Consulting", "quantity": 2, "price": 100, "discount": 20}],
        currency="USD",
        discountamount=10,
    )
    row = world.synced(invoice)
    xero_invoice = world.xero_invoice(row[schema.INVOICE_XERO_ID])
    assert xero_invoice["CurrencyCode"] == "USD"
    first, discount = xero_invoice["LineItems"][0], xero_invoice["LineItems"][-1]
    assert float(first["DiscountAmount"]) == 20
    assert float(discount["UnitAmount"]) * float(discount["Quantity"]) < 0


def test_a_deleted_line_is_taken_off_the_xero_invoice(world: World) -> None:
    # GIVEN an invoice of two lines in Xero
    invoice = world.user.create_invoice(
        "Two lines",
        ("account", world.new_account()),
        [{"description": "Keep", "price": 30}, {"description": "Drop", "price": 70}],
    )
    first = world.synced(invoice)
    assert len(world.xero_invoice(first[schema.INVOICE_XERO_ID])["LineItems"]) == 2
    # WHEN the user deletes one line (a Delete's Target is only the line's reference; the invoice is
    # known from the pre-image the install registered)
    world.user.delete("invoicedetails", world.user.lines(invoice)[1]["invoicedetailid"])
    row = world.synced(invoice, after=first)
    # THEN the same Xero invoice now bills the remaining line only
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    xero_invoice = world.xero_invoice(first[schema.INVOICE_XERO_ID])
    assert [line["Description"] for line in xero_invoice["LineItems"]] == ["Keep"]
    assert float(xero_invoice["SubTotal"]) == 30


def test_a_line_moved_to_another_invoice_leaves_one_xero_invoice_and_joins_the_other(world: World) -> None:
    # GIVEN two invoices of one customer in Xero, the first with two lines
    customer = ("account", world.new_account())
    source = world.user.create_invoice(
        "Move from", customer, [{"description": "Stays", "price": 20}, {"description": "Moves", "price": 45}]
    )
    target = world.user.create_invoice("Move to", customer, [{"description": "Already here", "price": 10}])
    first_source, first_target = world.synced(source), world.synced(target)
    # WHEN the user moves the second line onto the other invoice (Update of the line's invoiceid: its event
    # names the new invoice; only the pre-image the install registered names the old one)
    moving = world.user.lines(source)[1]["invoicedetailid"]
    world.user.update("invoicedetails", moving, {"invoiceid@odata.bind": f"/invoices({target})"})
    # THEN both Xero invoices follow: the old one no longer bills the line, the new one does
    source_row = world.synced(source, after=first_source)
    target_row = world.synced(target, after=first_target)
    left = world.xero_invoice(source_row[schema.INVOICE_XERO_ID])
    joined = world.xero_invoice(target_row[schema.INVOICE_XERO_ID])
    assert [line["Description"] for line in left["LineItems"]] == ["Stays"]
    assert sorted(line["Description"] for line in joined["LineItems"]) == ["Already here", "Moves"]
    assert (float(left["SubTotal"]), float(joined["SubTotal"])) == (20, 55)


def test_a_line_quantity_change_alone_updates_the_xero_line(world: World) -> None:
    invoice = world.user.create_invoice(
        "Quantity", ("account", world.new_account()), [{"description": "Hours", "price": 50, "quantity": 2}]
    )
    first = world.synced(invoice)
    # WHEN only the line's quantity changes (the event's Target holds that column, not the invoice)
    world.user.update("invoicedetails", world.user.lines(invoice)[0]["invoicedetailid"], {"quantity": 5})
    row = world.synced(invoice, after=first)
    (line,) = world.xero_invoice(row[schema.INVOICE_XERO_ID])["LineItems"]
    assert float(line["Quantity"]) == 5 and float(line["LineAmount"]) == 250


def test_an_invoice_delivered_at_half_past_midnight_in_auckland_is_dated_that_day(world: World) -> None:
    # GIVEN the connection's zone proposed at install from the Dynamics/Xero side (Demo Company (NZ)),
    # never chosen by hand; datedelivered is UserLocal, so Dynamics keeps it in UTC (the day before)
    assert bootstrap.worker().connections().require(world.connection.id).sync.time_zone == "Pacific/Auckland"
    invoice = world.user.create_invoice(
        "Delivered after midnight",
        ("account", world.new_account()),
        [{"description": "A"}],
        datedelivered="2026-12-08T00:30:00+13:00",
        duedate="2027-01-20",
    )
    row = world.synced(invoice)
    assert world.user.invoice(invoice)["datedelivered"] == "2026-12-07T11:30:00Z"
    xero_invoice = world.xero_invoice(row[schema.INVOICE_XERO_ID])
    # THEN Xero shows the Auckland calendar date, and the DateOnly due date as it is
    assert str(xero_invoice["DateString"]).startswith("2026-12-08")
    assert str(xero_invoice["DueDateString"]).startswith("2027-01-20")


def test_a_price_list_volume_discount_and_line_tax_reach_xero_as_dynamics_computed_them(world: World) -> None:
    # GIVEN an invoice on the Standard price list: 60 widgets (12.50 each there, 1.50 off each from 50 by
    # the list's volume discount) with the tax Dynamics put on the line
    price_list = world.user.first_id("pricelevels", "name eq 'Standard (USD)'")
    invoice = world.user.create_invoice(
        "Widgets by the box",
        ("account", world.new_account()),
        [{"product": world.product("WIDGET-01"), "quantity": 60, "tax": 99.0}],
        **{"pricelevelid@odata.bind": f"/pricelevels({price_list})"},
    )
    row = world.synced(invoice)
    dynamics = world.user.invoice(invoice)
    (line,) = world.user.lines(invoice)
    assert (line["priceperunit"], line["volumediscountamount"], line["baseamount"]) == (12.5, 1.5, 660.0)
    # THEN Xero bills what Dynamics computed, to the cent
    xero_invoice = world.xero_invoice(row[schema.INVOICE_XERO_ID])
    (xero_line,) = xero_invoice["LineItems"]
    assert float(xero_line["UnitAmount"]) == 11.0 and float(xero_line["TaxAmount"]) == 99.0
    assert float(xero_invoice["Total"]) == dynamics["totalamount"] == 759.0


def test_shuffled_and_double_fired_deliveries_end_in_one_correct_xero_invoice(world: World) -> None:
    # GIVEN Dynamics delivering asynchronous steps out of order (up to 1.5 s apart) and firing an Update
    # of the status and other columns twice, as documented
    limits = world.stack.dataverse.limits
    limits.update({"webhook_shuffle_seconds": 1.5, "webhook_split_state_updates": True})
    try:
        invoice = world.user.create_invoice(
            "Draft 0", ("account", world.new_account()), [{"description": "A"}]
        )
        # WHEN the user saves three times in quick succession, the last with a status change
        for n in (1, 2):
            world.user.update("invoices", invoice, {"name": f"Draft {n}"})
        world.user.update("invoices", invoice, {"name": "Final", "statuscode": 4})  # Billed, still Active
        assert world.stack.dataverse.webhooks.wait_idle(20)
        row = world.user.wait_for(
            invoice,
            lambda r: (
                bool(r.get(schema.INVOICE_XERO_ID))
                and world.xero_invoice(r[schema.INVOICE_XERO_ID]).get("Reference") == "Final"
            ),
            timeout=30,
        )
    finally:
        limits.update({"webhook_shuffle_seconds": 0.0, "webhook_split_state_updates": False})
    deliveries = [d for d in world.stack.dataverse.webhooks.deliveries() if d["primary_entity_id"] == invoice]
    assert sum(1 for d in deliveries if d["message"] == "Update") >= 4  # the last save fired twice
    # THEN Xero holds exactly one invoice for it, with the last save
    time.sleep(1)
    mine = [i for i in world.xero("Invoices") if i.get("InvoiceNumber") == row["invoicenumber"]]
    assert len(mine) == 1 and mine[0]["Reference"] == "Final"
    assert row[schema.INVOICE_SYNC_ERROR] == ""


def test_a_currency_xero_has_not_enabled_is_explained_on_the_invoice(world: World) -> None:
    invoice = world.user.create_invoice(
        "Euro", ("account", world.new_account()), [{"description": "A"}], "EUR"
    )
    row = world.synced(invoice)
    assert row[schema.INVOICE_SYNC_ERROR].startswith("Xero says:")
    assert "EUR" in row[schema.INVOICE_SYNC_ERROR] and "fix:" in row[schema.INVOICE_SYNC_ERROR]
    assert not row[schema.INVOICE_XERO_ID]


def test_a_draft_is_updated_in_place(world: World) -> None:
    invoice = world.user.create_invoice("Before", ("account", world.new_account()), [{"description": "A"}])
    first = world.synced(invoice)
    # the Activity page's row (issue 19): ids, number, outcome, latency, the organisation's ShortCode
    created = _activity_row(world, invoice, "pushed")
    [organisation] = world.xero("Organisation")
    assert (created.xero_invoice_id, created.short_code) == (
        first[schema.INVOICE_XERO_ID],
        organisation["ShortCode"],
    )
    assert created.invoice_number == first["invoicenumber"] and 0 <= created.latency_ms < 30_000
    # what Xero said is left of its limits on its last answer (X-MinLimit-Remaining, X-DayLimit-Remaining)
    assert 0 <= created.xero_minute_left < 60 and 0 <= created.xero_day_left < 5000
    creates = world.calls("PUT", "/api.xro/2.0/Invoices")
    log = bootstrap.worker().activity()  # the host's workers record through this one (same process)
    writes = _CountingTable(log.table)
    log._table = writes
    try:
        world.user.update("invoices", invoice, {"name": "After"})
        second = world.synced(invoice, after=first)
        updated = _activity_row(world, invoice, "updated")
    finally:
        log._table = writes.table
    assert second[schema.INVOICE_XERO_ID] == first[schema.INVOICE_XERO_ID]
    assert world.xero_invoice(second[schema.INVOICE_XERO_ID])["Reference"] == "After"
    assert world.calls("PUT", "/api.xro/2.0/Invoices") == creates
    assert updated.xero_invoice_id == created.xero_invoice_id and updated.latency_ms >= 0
    assert writes.writes == 1  # the push's one activity write: ids, outcome, latency, Xero's usage


class _CountingTable:
    """The activity table, counting the writes made through it."""

    def __init__(self, table: Any) -> None:
        self.table, self.writes = table, 0

    def __getattr__(self, name: str) -> Any:
        if name in ("upsert_entity", "create_entity", "update_entity", "delete_entity", "submit_transaction"):
            self.writes += 1
        return getattr(self.table, name)


def _activity_row(world: World, invoice: str, outcome: str) -> InvoiceActivity:
    """The invoice's activity row once it says `outcome` (it is written just after the write-back)."""
    deadline = time.monotonic() + 10
    while (
        latest := bootstrap.worker().activity().latest(world.connection.id, invoice)
    ) is None or latest.outcome != outcome:
        assert time.monotonic() < deadline, latest
        time.sleep(0.1)
    return latest


def test_a_paid_invoice_is_left_alone_with_the_reason(world: World) -> None:
    with world.sync_settings(invoice_status=InvoiceStatus.AUTHORISED):  # only approved invoices can be paid
        invoice = world.user.create_invoice(
            "To pay", ("account", world.new_account()), [{"description": "A"}]
        )
        first = world.synced(invoice)
        xero_id = first[schema.INVOICE_XERO_ID]
        pay = f"{world.xero_url}/_sandbox/orgs/{world.tenant}/Invoices/{xero_id}/pay"
        assert requests.post(pay, json={}, timeout=10).status_code == 200
        world.user.update("invoices", invoice, {"name": "Changed after payment"})
        row = world.synced(invoice, after=first)
    assert "paid" in row[schema.INVOICE_SYNC_ERROR].lower()
    assert world.xero_invoice(xero_id)["Reference"] == "To pay"
    assert world.xero_invoice(xero_id)["Status"] == "PAID"


@pytest.mark.parametrize(
    ("status", "expected"), [(InvoiceStatus.DRAFT, "DELETED"), (InvoiceStatus.AUTHORISED, "VOIDED")]
)
def test_a_cancelled_invoice_is_deleted_or_voided(world: World, status: InvoiceStatus, expected: str) -> None:
    with world.sync_settings(invoice_status=status):
        invoice = world.user.create_invoice(
            "Cancel me", ("account", world.new_account()), [{"description": "A"}]
        )
        xero_id = world.synced(invoice)[schema.INVOICE_XERO_ID]
        world.user.cancel_invoice(invoice)
        deadline = time.monotonic() + 20
        while world.xero_invoice(xero_id)["Status"] != expected:
            assert time.monotonic() < deadline, world.xero_invoice(xero_id)["Status"]
            time.sleep(0.2)
    # A cancelled invoice is read-only in Dynamics: the outcome is in the connection's activity instead.
    latest = _activity_row(world, invoice, "updated")  # an invoice Xero held, changed
    assert latest.message == f"Cancelled in Dynamics: {expected.lower()} in Xero" and latest.latency_ms >= 0


def test_the_same_event_delivered_twice_makes_one_xero_invoice_and_no_extra_call(world: World) -> None:
    invoice = world.user.create_invoice("Twice", ("account", world.new_account()), [{"description": "A"}])
    world.synced(invoice)
    writes = world.calls("PUT", "/api.xro/2.0/Invoices") + world.calls("POST", "/api.xro/2.0/Invoices")
    # as if another instance took the webhook just now: too recent for this worker's memory to cover it
    # (clock-skew margin), so the invoice is read again and the unchanged digest saves the Xero call
    now = datetime.now(UTC).isoformat()
    event = InvoiceEvent(world.connection.id, invoice, received_at=now, received_by="other-instance")
    queue = bootstrap.worker().invoice_queue()
    queue.send_message(event.to_json())
    queue.send_message(event.to_json())
    deadline = time.monotonic() + 15
    while queue.get_queue_properties().approximate_message_count and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    references = [i for i in world.xero("Invoices") if i.get("Reference") == "Twice"]
    assert len(references) == 1
    assert (
        world.calls("PUT", "/api.xro/2.0/Invoices") + world.calls("POST", "/api.xro/2.0/Invoices") == writes
    )


def test_a_change_saved_while_the_invoice_is_being_pushed_is_handed_over_and_not_lost(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shared.sync.worker")
    invoice = world.user.create_invoice("Before", ("account", world.new_account()), [{"description": "A"}])
    first = world.synced(invoice)
    writes = world.calls("POST", "/api.xro/2.0/Invoices")
    world.faults(latency_ms=1500)  # each Xero call takes 1.5 s: the push of the next change is slow
    world.user.update("invoices", invoice, {"name": "Second"})
    deadline = time.monotonic() + 20
    while world.calls("POST", "/api.xro/2.0/Invoices") == writes:  # the push is at Xero now
        assert time.monotonic() < deadline, "the change never reached Xero"
        time.sleep(0.02)
    # WHEN the user saves again while that push waits for Xero
    world.user.update("invoices", invoice, {"name": "Third"})
    row = world.user.wait_for(
        invoice,
        lambda r: world.xero_invoice(first[schema.INVOICE_XERO_ID]).get("Reference") == "Third",
        timeout=30,
    )
    # THEN the second event rode on the running push (no requeue), and Xero holds the latest save once
    assert any("handed-over" in r.getMessage() for r in caplog.records)
    assert not any("being pushed right now" in r.getMessage() for r in caplog.records)
    assert [
        i["Reference"] for i in world.xero("Invoices") if i["InvoiceID"] == row[schema.INVOICE_XERO_ID]
    ] == ["Third"]
    assert world.calls("POST", "/api.xro/2.0/Invoices") == writes + 2


def test_a_token_xero_stops_honouring_before_its_expiry_is_refreshed_not_reported(world: World) -> None:
    world.synced(world.user.create_invoice("Warm", ("account", world.new_account()), [{"description": "A"}]))
    # Xero forgets every access token it issued; the connector's row still says its token has ~30 min
    requests.post(f"{world.xero_url}/_sandbox/tokens/expire", timeout=10).raise_for_status()
    invoice = world.user.create_invoice(
        "After expiry", ("account", world.new_account()), [{"description": "A"}]
    )
    row = world.synced(invoice)
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    assert bootstrap.worker().connections().require(world.connection.id).xero.error.reason == ""


def test_a_committed_but_lost_answer_still_makes_one_invoice(world: World) -> None:
    account = world.new_account()
    world.synced(world.user.create_invoice("Known", ("account", account), [{"description": "A"}]))
    # now the invoice create is the only write: Xero stores it and the answer is lost
    world.faults(lost_rate=1.0)
    invoice = world.user.create_invoice("Lost answer", ("account", account), [{"description": "A"}])
    deadline = time.monotonic() + 20
    while not [i for i in world.xero("Invoices") if i.get("Reference") == "Lost answer"]:
        assert time.monotonic() < deadline, "the write never reached Xero"
        time.sleep(0.05)
    world.faults(lost_rate=0)  # the retry must find the stored invoice, not create another
    row = world.synced(invoice)
    found = [i for i in world.xero("Invoices") if i.get("Reference") == "Lost answer"]
    assert len(found) == 1 and found[0]["InvoiceID"] == row[schema.INVOICE_XERO_ID]


def test_a_rate_limit_defers_the_message_and_the_invoice_still_arrives(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shared.sync.worker")
    # Xero's minute lasts 2 s here, and the connector is told so (XERO_MINUTE_SECONDS does it in a stack)
    requests.put(f"{world.xero_url}/_sandbox/limits", json={"minute": 4, "time_scale": 30.0}, timeout=10)
    gate = bootstrap.worker().rate_gate()
    gate.minute = 2.0
    try:
        invoices = [
            world.user.create_invoice(
                f"Throttled {n}", ("account", world.new_account()), [{"description": "A"}]
            )
            for n in range(3)
        ]  # a new customer each: 6 calls, and the window allows 2 before the connector holds back
        rows = [world.synced(invoice, timeout=40) for invoice in invoices]
    finally:
        time.sleep(2.1)  # let the short windows pass before the connector's minute is a minute again
        gate.minute = 60.0
    assert [row[schema.INVOICE_SYNC_ERROR] for row in rows] == ["", "", ""]
    assert any("deferred" in r.getMessage() for r in caplog.records)


def test_retries_run_out_and_the_reason_is_written_back(world: World) -> None:
    world.faults(error_rate=1.0)
    invoice = world.user.create_invoice("Never", ("account", world.new_account()), [{"description": "A"}])
    row = world.synced(invoice, timeout=40)
    assert "after several tries" in row[schema.INVOICE_SYNC_ERROR]
    assert "Xero answered 50" in row[schema.INVOICE_SYNC_ERROR]
    assert row[schema.INVOICE_XERO_STATUS] == "NOT SENT"


def test_a_write_back_column_missing_after_an_upgrade_says_install_again_and_install_fixes_it(
    world: World,
) -> None:
    from shared.connections.dynamics_access import dataverse_client_for
    from shared.connections.install_service import install_into_dynamics

    store = bootstrap.worker().connections()

    def reinstall() -> None:
        connection = store.require(world.connection.id)
        client = dataverse_client_for(
            connection, store, bootstrap.worker().settings, bootstrap.worker().session()
        )
        install_into_dynamics(
            store, connection, client, bootstrap.worker().settings, xero_for=bootstrap.worker().xero_for
        )

    connection = store.require(world.connection.id)
    admin = dataverse_client_for(connection, store, bootstrap.worker().settings, bootstrap.worker().session())
    # GIVEN an environment installed by the previous version, which had no sync-warning column
    column = schema.INVOICE_SYNC_WARNING
    assert admin.delete("EntityDefinitions(LogicalName='invoice')/Attributes", f"LogicalName='{column}'")
    try:
        # WHEN a person saves an invoice
        invoice = world.user.create_invoice("Upgrade", ("account", world.new_account()), [
            {"description": "Consulting", "price": 120}])  # fmt: skip
        deadline = time.monotonic() + 30
        while (latest := bootstrap.worker().activity().latest(world.connection.id, invoice)) is None:
            assert time.monotonic() < deadline, "no activity recorded for the invoice"
            time.sleep(0.2)
        # THEN the activity says which column is missing and what fixes it, and nothing reached Xero
        assert latest.outcome == "failed"
        assert latest.message == (
            f"Dynamics lacks column {column} that this version of the connector writes — fix: Install into "
            "Dynamics again on the connection's page"
        )
        assert not world.user.invoice(invoice).get(schema.INVOICE_XERO_ID)
    finally:
        # WHEN Install into Dynamics runs again (the fix the message names)
        reinstall()
    # THEN the next save of that invoice reaches Xero
    world.user.update("invoices", invoice, {"name": "Upgrade, saved again"})
    row = world.synced(invoice)
    assert row[schema.INVOICE_SYNC_ERROR] == "" and row[schema.INVOICE_XERO_ID]
    assert world.xero_invoice(row[schema.INVOICE_XERO_ID])["LineItems"][0]["Description"] == "Consulting"
