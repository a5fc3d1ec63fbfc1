"""The push against a Xero organisation that was in use before the connector came: customers already
there (by name in another case, by account number), invoices already holding numbers Dynamics also uses,
approvals done in Xero. Everything over real HTTP through the local host; assertions on what Xero and
Dynamics then hold."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from local.azurite import Azurite
from local.sandbox.tests.dataverse.helpers import session_for
from shared import bootstrap
from shared.dataverse import schema
from shared.store.sync_settings import InvoiceStatus
from shared.sync.item_catalog import ItemCatalog
from shared.xero.accounting import ZERO_ID, XeroAccounting
from tests.support.stack import LocalStack
from tests.support.world import FAST_HOST, World, running_world


@pytest.fixture(scope="module")
def world(azurite: Azurite) -> Iterator[World]:
    with running_world(azurite, "org", host_json=FAST_HOST) as world:
        yield world


@pytest.fixture(autouse=True)
def calm_xero(world: World) -> None:
    world.faults(error_rate=0, slow_rate=0, lost_rate=0, latency_ms=0)
    world.stack.reset_xero_limits()


def as_xero_user(world: World) -> XeroAccounting:
    """Someone working in Xero itself (through the API: the sandbox has no screens)."""
    return bootstrap.worker().xero_for(bootstrap.worker().connections().require(world.connection.id))


def account(world: World, name: str, number: str, **extra: Any) -> str:
    response = world.user.session.post(
        world.user.base + "accounts", json={"name": name, "accountnumber": number, **extra}, timeout=10
    )
    response.raise_for_status()
    return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


def named(world: World, name: str) -> list[dict[str, Any]]:
    return [c for c in world.xero("Contacts") if c["Name"].lower() == name.lower()]


def test_a_customer_xero_knows_under_another_case_is_reused(world: World) -> None:
    # GIVEN Xero already has "ACME TRADING <n>" (typed in capitals years ago)
    tag = uuid.uuid4().hex[:6]
    existing = as_xero_user(world).write(
        "PUT", "Contacts", "Contacts", [{"Name": f"ACME TRADING {tag}"}], f"seed-{tag}"
    )[0]
    # WHEN Dynamics' "Acme Trading <n>" gets its first invoice
    customer = account(world, f"Acme Trading {tag}", f"AT-{tag}")
    row = world.synced(world.user.create_invoice("Order", ("account", customer), [{"description": "A"}]))
    # THEN the invoice went to that contact: no failure, no second contact, its id (not zero) on Dynamics
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    contact_id = existing.element["ContactID"]
    assert world.xero_invoice(row[schema.INVOICE_XERO_ID])["Contact"]["ContactID"] == contact_id
    assert len(named(world, f"acme trading {tag}")) == 1
    stored = world.user.get(f"accounts({customer})")[schema.CUSTOMER_XERO_CONTACT_ID]
    assert stored == contact_id != ZERO_ID


def test_a_customer_xero_knows_by_its_account_number_is_reused(world: World) -> None:
    # GIVEN Xero has the customer under a trading name, with the Dynamics account number as its number
    tag = uuid.uuid4().hex[:6]
    existing = as_xero_user(world).write(
        "PUT", "Contacts", "Contacts", [{"Name": f"Bluebird T/A {tag}", "ContactNumber": f"BB-{tag}"}], tag
    )[0]
    customer = account(world, f"Bluebird Holdings {tag}", f"BB-{tag}")
    row = world.synced(world.user.create_invoice("Order", ("account", customer), [{"description": "A"}]))
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    assert (
        world.xero_invoice(row[schema.INVOICE_XERO_ID])["Contact"]["ContactID"]
        == existing.element["ContactID"]
    )
    assert not named(world, f"Bluebird Holdings {tag}")


def test_a_customer_fixed_after_xero_refused_it_is_created_on_the_next_save(world: World) -> None:
    # GIVEN a customer whose e-mail Xero refuses: the invoice says why
    tag = uuid.uuid4().hex[:6]
    customer = account(world, f"Typo Ltd {tag}", f"TY-{tag}", emailaddress1="accounts@typo")
    invoice = world.user.create_invoice("Order", ("account", customer), [{"description": "A"}])
    failed = world.synced(invoice)
    assert "Email address must be valid" in failed[schema.INVOICE_SYNC_ERROR]
    # WHEN the user corrects the e-mail and saves the invoice again
    world.user.update("accounts", customer, {"emailaddress1": "accounts@typo.example"})
    world.user.update("invoices", invoice, {"name": "Order (again)"})
    row = world.synced(invoice, after=failed)
    # THEN the contact is created with the corrected e-mail and the invoice goes through
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    [contact] = named(world, f"Typo Ltd {tag}")
    assert contact["EmailAddress"] == "accounts@typo.example"
    assert world.xero_invoice(row[schema.INVOICE_XERO_ID])["Contact"]["ContactID"] == contact["ContactID"]


def xero_invoice_body(contact_id: str, number: str, status: str = "DRAFT") -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "InvoiceNumber": number,
        "Date": "2026-01-05",
        "DueDate": "2026-02-05",
        "Status": status,
        "Reference": "typed in Xero",
        "LineItems": [{"Description": "Their work", "Quantity": 1, "UnitAmount": 500, "AccountCode": "200"}],
    }


def test_an_invoice_xero_already_has_under_our_number_is_left_untouched_and_explained(world: World) -> None:
    # GIVEN Xero holds a draft INV-<n> for another customer, entered by hand before the connector came
    tag = uuid.uuid4().hex[:6].upper()
    number = f"INV-9{tag}"
    xero = as_xero_user(world)
    other = xero.write("PUT", "Contacts", "Contacts", [{"Name": f"Someone Else {tag}"}], f"o-{tag}")[0]
    theirs = xero.write(
        "PUT", "Invoices", "Invoices", [xero_invoice_body(other.element["ContactID"], number)], f"i-{tag}"
    )[0].element
    # WHEN a Dynamics invoice with that same number is saved
    customer = account(world, f"Our Customer {tag}", f"OC-{tag}")
    invoice = world.user.create_invoice(
        "Ours", ("account", customer), [{"description": "Our work", "price": 10}], invoicenumber=number
    )
    row = world.synced(invoice)
    # THEN their invoice is exactly as it was, and ours says why it is not in Xero and what to do
    after = world.xero_invoice(theirs["InvoiceID"])
    assert (after["Reference"], after["Contact"]["ContactID"]) == (
        "typed in Xero",
        other.element["ContactID"],
    )
    assert [line["Description"] for line in after["LineItems"]] == ["Their work"]
    assert after["UpdatedDateUTC"] == theirs["UpdatedDateUTC"]
    message = row[schema.INVOICE_SYNC_ERROR]
    assert f"Xero already has invoice {number} (for Someone Else {tag})" in message and "fix:" in message
    assert not row[schema.INVOICE_XERO_ID]


def test_an_approved_invoice_without_a_due_date_takes_the_contacts_payment_terms(world: World) -> None:
    # GIVEN the customer is in Xero with "20th of the following month" as its sales terms
    tag = uuid.uuid4().hex[:6]
    terms = {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}}
    as_xero_user(world).write(
        "PUT", "Contacts", "Contacts", [{"Name": f"Termed Ltd {tag}", "PaymentTerms": terms}], f"t-{tag}"
    )
    customer = account(world, f"Termed Ltd {tag}", f"TL-{tag}")
    # WHEN the connection approves invoices and Dynamics gives this one no due date
    with world.sync_settings(invoice_status=InvoiceStatus.AUTHORISED):
        invoice = world.user.create_invoice(
            "Approved",
            ("account", customer),
            [{"description": "A", "price": 10}],
            datedelivered="2026-03-10T00:00:00Z",
        )
        row = world.synced(invoice)
    # THEN Xero took it, due on the 20th of the following month
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    xero_invoice = world.xero_invoice(row[schema.INVOICE_XERO_ID])
    assert xero_invoice["Status"] == "AUTHORISED"
    assert xero_invoice["DueDateString"].startswith("2026-04-20")


def test_an_approved_invoice_of_a_customer_without_terms_takes_the_connections_days(world: World) -> None:
    # GIVEN a new customer (no terms in Xero), an organisation without sales terms, 14 days on the connection
    with world.sync_settings(invoice_status=InvoiceStatus.AUTHORISED, default_due_days=14):
        invoice = world.user.create_invoice(
            "Fortnight",
            ("account", world.new_account()),
            [{"description": "A", "price": 10}],
            datedelivered="2026-03-10T00:00:00Z",
        )
        row = world.synced(invoice)
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    assert world.xero_invoice(row[schema.INVOICE_XERO_ID])["DueDateString"].startswith("2026-03-24")


def test_an_invoice_approved_in_xero_takes_later_edits_without_going_back_to_draft(world: World) -> None:
    # GIVEN a draft the connector pushed, which the accountant then approved in Xero
    invoice = world.user.create_invoice("Before", ("account", world.new_account()), [{"description": "A"}])
    first = world.synced(invoice)
    xero_id = first[schema.INVOICE_XERO_ID]
    approved = as_xero_user(world).write(
        "POST",
        f"Invoices/{xero_id}",
        "Invoices",
        [{"Status": "AUTHORISED", "DueDate": "2026-12-31"}],
        xero_id,
    )[0]
    assert approved.ok, approved.errors
    # WHEN the Dynamics user changes the invoice
    world.user.update("invoices", invoice, {"name": "After approval"})
    row = world.synced(invoice, after=first)
    # THEN Xero took the change and kept its approval (and the due date the accountant chose)
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    assert row[schema.INVOICE_XERO_STATUS] == "AUTHORISED"
    held = world.xero_invoice(xero_id)
    assert (held["Reference"], held["Status"]) == ("After approval", "AUTHORISED")
    assert held["DueDateString"].startswith("2026-12-31")


def test_the_link_on_the_invoice_opens_the_right_organisation(world: World) -> None:
    invoice = world.user.create_invoice("Linked", ("account", world.new_account()), [{"description": "A"}])
    row = world.synced(invoice)
    [organisation] = world.xero("Organisation")
    assert row[schema.INVOICE_XERO_URL] == (
        f"{world.xero_url}/organisationlogin/default.aspx?shortcode="
        f"{quote(organisation['ShortCode'], safe='')}&redirecturl=/AccountsReceivable/View.aspx"
        f"%3FInvoiceID%3D{row[schema.INVOICE_XERO_ID]}"
    )
    # and Xero's invoice links back to the Dynamics invoice ("Go to …" in Xero)
    assert f"id={invoice.lower()}" in world.xero_invoice(row[schema.INVOICE_XERO_ID])["Url"]


def test_a_four_decimal_price_is_not_written_again_when_the_catalog_reloads(world: World) -> None:
    # GIVEN an item priced to four decimals, written once
    tag = uuid.uuid4().hex[:6].upper()
    wanted = [{"Code": f"P4-{tag}", "Name": "Gasket", "SalesDetails": {"UnitPrice": 0.1234}}]
    catalog, xero = ItemCatalog(ttl=0), as_xero_user(world)
    catalog.ensure(world.tenant, xero, wanted, True, f"dxc-items-{tag}")
    posts = world.calls("POST", "/api.xro/2.0/Items")
    # WHEN the catalog is read again (every reload, in a worker) THEN the unchanged item is not re-sent
    outcome = catalog.ensure(world.tenant, xero, wanted, True, f"dxc-items-{tag}")
    assert outcome.known_codes == {f"P4-{tag}"} and not outcome.problems
    assert world.calls("POST", "/api.xro/2.0/Items") == posts


def test_a_total_xero_works_out_differently_is_a_warning_on_the_invoice_until_both_agree(
    world: World,
) -> None:
    # GIVEN Dynamics charges no tax on a 10.00 line; Xero applies the account's 15 % GST
    invoice = world.user.create_invoice(
        "Taxed", ("account", world.new_account()), [{"description": "A", "price": 10}]
    )
    row = world.user.wait_for(invoice, lambda r: bool(r.get(schema.INVOICE_SYNC_WARNING)))
    # THEN the Dynamics invoice shows the warning with its cause, and is not marked failed
    warning = row[schema.INVOICE_SYNC_WARNING]
    assert warning.startswith("Warning: Xero's total 11.50 differs from the Dynamics total 10.00")
    assert "the tax differs (Dynamics 0.00, Xero 1.50)" in warning and "fix:" in warning
    assert row[schema.INVOICE_SYNC_ERROR] == "" and row[schema.INVOICE_XERO_ID]
    dynamics = world.stack.dataverse
    page = session_for(dynamics).get(f"{dynamics.url}/_sandbox/ui/contoso/invoices/{invoice}", timeout=10)
    assert "Sync warning" in page.text and "differs from the Dynamics total 10.00" in page.text
    # and the push is counted as sent with that warning
    latest = bootstrap.worker().activity().latest(world.connection.id, invoice)
    # (its words without the amounts: the activity keeps no amounts, the connection-metadata rule)
    assert latest is not None and latest.outcome == "pushed"
    assert latest.message.startswith("Warning: Xero's total differs from the Dynamics total: the tax differs")
    assert not any(char.isdigit() for char in latest.message), latest.message
    assert bootstrap.worker().activity().summary(world.connection.id).warnings >= 1
    # AND writing the warning back fired no webhook, so nothing was sent to Xero a second time
    assert world.stack.dataverse.webhooks.wait_idle(10)
    time.sleep(1)  # time for a stray delivery to reach the connector
    updates = [
        d
        for d in world.stack.dataverse.webhooks.deliveries()
        if d["primary_entity_id"] == invoice and d["message"] == "Update"
    ]
    assert updates == []
    assert len([i for i in world.xero("Invoices") if i.get("Reference") == "Taxed"]) == 1
    assert world.user.invoice(invoice)[schema.INVOICE_SYNCED_ON] == row[schema.INVOICE_SYNCED_ON]
    # WHEN the Dynamics line gets the tax Xero charges, and the invoice is sent again
    world.user.update("invoicedetails", world.user.lines(invoice)[0]["invoicedetailid"], {"tax": 1.5})
    agreed = world.user.wait_for(invoice, lambda r: not r.get(schema.INVOICE_SYNC_WARNING))
    # THEN the totals agree and the warning is gone
    assert agreed[schema.INVOICE_SYNC_ERROR] == "" and agreed["totalamount"] == 11.5
    assert float(world.xero_invoice(agreed[schema.INVOICE_XERO_ID])["Total"]) == 11.5


@pytest.fixture(scope="module")
def established(azurite: Azurite) -> Iterator[World]:
    """The organisation `make run` offers: the NZ demo company with years of history. Its stack replaces
    the process's settings, so its tests come last in this module."""
    prefix = "est" + uuid.uuid4().hex[:8]
    stack = LocalStack(prefix=prefix, azurite=azurite, host_json=FAST_HOST, xero_seed="established").start()
    try:
        yield World(stack, stack.onboard())
    finally:
        stack.stop()


def test_the_dynamics_samples_meet_an_organisation_with_years_of_history(established: World) -> None:
    world = established
    before = {i["InvoiceID"]: i["UpdatedDateUTC"] for i in world.xero("Invoices")}
    # a new order of Fabrikam Ltd (FAB-001), whom Xero has as "FABRIKAM LTD" with that contact number
    fabrikam = world.user.first_id("accounts", "accountnumber eq 'FAB-001'")
    order = world.user.create_invoice("New order", ("account", fabrikam), [{"description": "A", "price": 10}])
    row = world.synced(order)
    assert row[schema.INVOICE_SYNC_ERROR] == ""
    assert world.xero_invoice(row[schema.INVOICE_XERO_ID])["Contact"]["Name"] == "FABRIKAM LTD"
    assert len(named(world, "fabrikam ltd")) == 1
    # the sample invoice INV-00001, saved again: Xero's INV-00001 belongs to someone else
    sample = world.user.first_id("invoices", "invoicenumber eq 'INV-00001'")
    world.user.update("invoices", sample, {"name": "Widgets for Fabrikam (saved again)"})
    failed = world.synced(sample)
    assert "Xero already has invoice INV-00001" in failed[schema.INVOICE_SYNC_ERROR]
    after = {i["InvoiceID"]: i["UpdatedDateUTC"] for i in world.xero("Invoices")}
    assert {k: v for k, v in after.items() if k in before} == before  # no earlier invoice touched
