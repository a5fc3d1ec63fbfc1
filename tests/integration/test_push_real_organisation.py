"""The push against a Xero organisation that was in use before the connector came: customers already
there (by name in another case, by account number), invoices already holding numbers Dynamics also uses,
approvals done in Xero. Everything over real HTTP through the local host; assertions on what Xero and
Dynamics then hold."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.azurite import Azurite
from local.stack import LocalStack
from shared import bootstrap
from shared.dataverse import schema
from shared.xero.accounting import ZERO_ID, XeroAccounting
from tests.integration.test_push_end_to_end import FAST_HOST, World


@pytest.fixture(scope="module")
def world(azurite: Azurite) -> Iterator[World]:
    stack = LocalStack(prefix="org" + uuid.uuid4().hex[:8], azurite=azurite, host_json=FAST_HOST).start()
    try:
        yield World(stack, stack.onboard())
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def calm_xero(world: World) -> None:
    world.faults(error_rate=0, slow_rate=0, lost_rate=0, latency_ms=0)
    requests.post(f"{world.xero_url}/_sandbox/limits/reset", timeout=10)


def as_xero_user(world: World) -> XeroAccounting:
    """Someone working in Xero itself (through the API: the sandbox has no screens)."""
    return bootstrap.xero_for(bootstrap.connections().require(world.connection.id))


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
