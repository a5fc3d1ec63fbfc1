"""The plans' limits on the real invoice worker: the sandbox Dataverse and Xero over real HTTP, real
Azurite. An invoice that may not go waits — its reason on the Dynamics invoice, its message back on the
queue — and goes by itself once the reason is gone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from local.azurite import Azurite
from shared import bootstrap
from shared.billing.allowance import month_key
from shared.billing.enforcement import Enforcer
from shared.billing.usage import USAGE, UsageStore
from shared.dataverse import schema
from shared.email.message import EmailMessage
from shared.store.models import Subscription, utc_now
from shared.store.tables import table_client
from shared.sync.events import InvoiceEvent
from tests.support.world import World, running_world


@pytest.fixture(scope="module")
def world(azurite: Azurite) -> Iterator[World]:
    owner = f"owner.{uuid.uuid4().hex[:6]}@fabrikam.example"
    billing_on = {"STRIPE_SECRET_KEY": "sk_test_standin"}  # the worker's checks make no Stripe call
    with running_world(azurite, "bill", owner=owner, env=billing_on, with_host=False) as world:
        yield world


@pytest.fixture(autouse=True)
def on_trial(world: World) -> None:
    world.account(plan="trial", trial_ends_at=utc_now() + timedelta(days=10), subscription=Subscription())
    world.set_used(0)
    world.requeued.clear()
    # the module's pushes share one organisation: each test starts with Xero's minute free (the
    # sandbox's window and the connector's shared ledger of it), as the other shared-stack modules do
    world.stack.reset_xero_limits()


def _subscribed(
    plan: str = "starter", status: str = "active", failed_at: datetime | None = None
) -> dict[str, Any]:
    held = Subscription("cus_1", "sub_1", status, "price_1", utc_now() + timedelta(days=30), False, failed_at)
    return {"plan": plan, "subscription": held}


def test_the_monthly_limit_reached_makes_invoices_wait_and_an_upgrade_sends_them(world: World) -> None:
    world.set_used(100)  # the trial's 100 invoices this month are used
    invoice = world.invoice(f"Order {uuid.uuid4().hex[:6]}", description="Support", price=120)

    assert world.push(invoice) == "paused"

    row = world.row(invoice)
    assert "100 invoices of the Free trial plan are used" in row[schema.INVOICE_SYNC_ERROR]
    assert "/account#subscription" in row[schema.INVOICE_SYNC_ERROR] and not row.get(schema.INVOICE_XERO_ID)
    [(body, delay)] = world.requeued
    assert 0 < delay <= 15 * 60 and InvoiceEvent.from_json(body).deferrals == 0

    world.account(**_subscribed("starter"))  # what the webhook does after the upgrade
    assert world.handle(body) == "pushed"

    row = world.row(invoice)
    assert row[schema.INVOICE_XERO_ID] and row[schema.INVOICE_SYNC_ERROR] == ""
    assert world.used() == 101


def test_a_new_month_lifts_the_limit(world: World) -> None:
    world.account(**_subscribed("starter"))
    world.set_used(500)
    enforcer = bootstrap.worker().enforcer()
    assert enforcer is not None
    now = utc_now()
    next_month = (now.replace(day=1) + timedelta(days=32)).replace(day=1)

    assert enforcer.pause(world.connection, now) is not None
    assert enforcer.pause(world.connection, next_month) is None


def test_the_trials_end_without_a_subscription_pauses_and_subscribing_resumes(world: World) -> None:
    world.account(trial_ends_at=utc_now() - timedelta(minutes=5))
    invoice = world.invoice(f"Order {uuid.uuid4().hex[:6]}", description="Support", price=120)

    assert world.push(invoice) == "paused"
    assert "free trial ended" in world.row(invoice)[schema.INVOICE_SYNC_ERROR]

    world.account(**_subscribed("business", "active"))
    assert world.handle(world.requeued[-1][0]) == "pushed"
    assert world.row(invoice)[schema.INVOICE_XERO_ID]


def test_card_failure_grace_then_pause_then_payment_resumes(world: World) -> None:
    world.account(trial_ends_at=utc_now() - timedelta(days=20))
    world.account(**_subscribed("starter", "past_due", utc_now() - timedelta(days=2)))
    during_grace = world.invoice(f"Order {uuid.uuid4().hex[:6]}", description="Support", price=120)
    assert world.push(during_grace) == "pushed"  # within the grace period syncing goes on

    world.account(**_subscribed("starter", "past_due", utc_now() - timedelta(days=8)))
    paused = world.invoice(f"Order {uuid.uuid4().hex[:6]}", description="Support", price=120)
    assert world.push(paused) == "paused"
    assert "last payment failed" in world.row(paused)[schema.INVOICE_SYNC_ERROR]

    world.account(**_subscribed("starter", "active"))  # invoice.paid: the new card paid
    assert world.handle(world.requeued[-1][0]) == "pushed"
    assert world.row(paused)[schema.INVOICE_XERO_ID]


class Outbox:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def test_80_percent_of_the_month_sends_one_email(world: World) -> None:
    outbox = Outbox()
    world.account(**_subscribed("starter"))
    table_client(bootstrap.worker().settings, USAGE).upsert_entity(
        {"PartitionKey": world.connection.id, "RowKey": month_key(utc_now()), "count": 398, "warned": False}
    )
    enforcer = Enforcer(
        world.accounts(),
        UsageStore.from_settings(bootstrap.worker().settings),
        outbox,
        "https://p.example",
        timedelta(days=7),
    )

    for _ in range(3):  # 399, 400 (80% of 500), 401
        enforcer.sent(world.connection, utc_now())

    [message] = outbox.sent
    assert (
        "400 of the 500 invoices" in message.text and "https://p.example/account#subscription" in message.text
    )
    assert message.to == world.accounts().require(world.account_id).email


def test_the_connection_pages_banner_at_80_percent_and_when_paused(world: World) -> None:
    from shared import bootstrap
    from shared.web.billing_actions import usage_banner

    account, enforcer = world.accounts().require(world.account_id), bootstrap.worker().enforcer()
    world.set_used(79)
    assert usage_banner(account, world.connection, utc_now(), enforcer) == ""
    world.set_used(80)
    assert usage_banner(account, world.connection, utc_now(), enforcer) == (
        "80 of the 100 invoices of the Free trial plan are used this month."
    )
    world.set_used(100)
    assert usage_banner(account, world.connection, utc_now(), enforcer).startswith(
        "Invoices are waiting: this month's 100 invoices of the Free trial plan are used."
    )
