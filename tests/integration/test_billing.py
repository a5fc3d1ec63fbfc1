"""Billing end to end over real HTTP: the portal's account page, the Stripe stand-in's hosted Checkout
and portal pages, and the stand-in's signed webhooks into /api/stripe/webhook; state asserted on the
account row and on what the stand-in holds."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from local.azurite import Azurite
from local.sandbox.stripe.webhooks import signature_header
from shared import bootstrap
from shared.billing.setup import ensure_plans
from shared.store.accounts import AccountStore
from shared.store.models import Account, utc_now
from tests.integration.billing_stack import WEBHOOK_SECRET, BillingWorld, billing_world
from tests.support.portal_visitor import Visitor

GOOD, FAILING = "4242424242424242", "4000000000000341"


@pytest.fixture(scope="module")
def world(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BillingWorld]:
    with billing_world(azurite, tmp_path_factory.mktemp("billing")) as running:
        yield running


def _accounts() -> AccountStore:
    return AccountStore.from_settings(bootstrap.worker().settings)


def _signed_up(world: BillingWorld) -> tuple[Visitor, Account]:
    visitor, email = Visitor(world.portal), f"ap.{uuid.uuid4().hex[:8]}@fabrikam.example"
    assert visitor.register_and_set_password(email).status_code == 303
    account = _accounts().get_by_email(email)
    assert account is not None
    return visitor, account


def _pay_on_stripes_page(visitor: Visitor, checkout_url: str, card: str = GOOD) -> requests.Response:
    page = visitor.http.get(checkout_url, timeout=10)
    assert page.status_code == 200 and "Subscribe to" in page.text
    return visitor.http.post(
        checkout_url,
        data={"cardNumber": card, "billingCountry": "NZ", "billingPostalCode": "6011"},
        allow_redirects=False,
        timeout=10,
    )


def _subscribe(world: BillingWorld, visitor: Visitor, plan: str = "starter", card: str = GOOD) -> Account:
    visitor.get("/account")
    to_stripe = visitor.post("/account/billing/plan", {"plan": plan})
    assert to_stripe.status_code == 303 and to_stripe.headers["Location"].startswith(world.standin.url)
    back = _pay_on_stripes_page(visitor, to_stripe.headers["Location"], card)
    assert back.status_code == 303 and back.headers["Location"].startswith(world.portal.url + "/account")
    assert world.standin.state.webhooks.wait_idle()
    account = _accounts().get_by_email(visitor_email(visitor, world))
    assert account is not None
    return account


def visitor_email(visitor: Visitor, world: BillingWorld) -> str:
    page = visitor.get("/account").text
    return page.split("<dt>E-mail address</dt><dd>", 1)[1].split("</dd>", 1)[0]


def _post_event(world: BillingWorld, body: bytes, header: str) -> requests.Response:
    http = requests.Session()
    http.trust_env = False
    return http.post(
        world.portal.url + "/api/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        timeout=10,
    )


def test_the_setup_command_creates_each_plan_once(world: BillingWorld) -> None:
    again = ensure_plans(world.client)

    assert again == world.prices and set(again) == {"starter", "business"}
    assert sorted(world.standin.state.products) == ["dxc_business", "dxc_starter"]
    assert len(world.standin.state.prices) == 2
    starter = world.standin.state.prices[again["starter"]]
    assert (starter["unit_amount"], starter["currency"], starter["recurring"]["interval"]) == (
        1900,
        "usd",
        "month",
    )


def test_trial_to_paid_through_checkout_keeps_the_trial_days_and_shows_the_plan(world: BillingWorld) -> None:
    visitor, before = _signed_up(world)
    assert before.trial_ends_at is not None

    account = _subscribe(world, visitor, "starter")

    held = account.subscription
    assert (account.plan, held.status) == ("starter", "trialing")
    sub = world.standin.state.subscriptions[held.subscription_id]
    assert sub["trial_end"] == int(before.trial_ends_at.timestamp())  # the trial's days carried over
    assert sub["customer"] == held.customer_id and sub["automatic_tax"]["enabled"] is True
    assert world.standin.state.customers[held.customer_id]["metadata"] == {"account_id": account.id}
    page = visitor.get("/account").text
    assert "Starter" in page and "Trial (card on file)" in page and 'id="subscription-next-charge"' in page
    assert "USD 19.00 plus tax on " + before.trial_ends_at.strftime("%d %B %Y") in page


def test_changing_plan_updates_the_live_subscription(world: BillingWorld) -> None:
    visitor, _ = _signed_up(world)
    account = _subscribe(world, visitor, "starter")

    visitor.get("/account")
    changed = visitor.post("/account/billing/plan", {"plan": "business"})
    assert world.standin.state.webhooks.wait_idle()

    assert changed.status_code == 303 and changed.headers["Location"] == "/account#billing"
    after = _accounts().require(account.id)
    assert (
        after.plan == "business"
        and after.subscription.subscription_id == account.subscription.subscription_id
    )
    sub = world.standin.state.subscriptions[after.subscription.subscription_id]
    assert sub["items"]["data"][0]["price"]["id"] == world.prices["business"]
    assert (
        len([s for s in world.standin.state.subscriptions.values() if s["customer"] == sub["customer"]]) == 1
    )
    assert "Your plan is now Business." in visitor.get("/account").text


def test_a_failed_card_starts_the_grace_period_and_a_new_card_ends_it(world: BillingWorld) -> None:
    visitor, _ = _signed_up(world)
    account = _subscribe(world, visitor, "business", card=FAILING)
    sub_id = account.subscription.subscription_id

    requests.post(f"{world.standin.url}/_sandbox/subscriptions/{sub_id}/renew", timeout=10)  # the trial ends
    assert world.standin.state.webhooks.wait_idle()
    failing = _accounts().require(account.id)
    assert failing.subscription.status == "past_due" and failing.subscription.payment_failed_at is not None
    assert "Payment failed" in visitor.get("/account").text

    visitor.get("/account")
    to_portal = visitor.post("/account/billing/portal", {})
    assert to_portal.status_code == 303 and to_portal.headers["Location"].startswith(world.standin.url)
    visitor.http.post(to_portal.headers["Location"] + "/card", data={"cardNumber": GOOD}, timeout=10)
    assert world.standin.state.webhooks.wait_idle()

    paid = _accounts().require(account.id)
    assert paid.subscription.status == "active" and paid.subscription.payment_failed_at is None


def test_cancelling_in_stripes_portal_ends_the_subscription_on_the_account(world: BillingWorld) -> None:
    visitor, _ = _signed_up(world)
    account = _subscribe(world, visitor)
    visitor.get("/account")
    portal_url = visitor.post("/account/billing/portal", {}).headers["Location"]

    visitor.http.post(f"{portal_url}/cancel/{account.subscription.subscription_id}", timeout=10)
    assert world.standin.state.webhooks.wait_idle()

    assert _accounts().require(account.id).subscription.status == "canceled"


# ---- attacks on the webhook ---------------------------------------------------------------------------


def _event(world: BillingWorld, index: int = -1) -> bytes:
    return json.dumps(world.standin.state.events[index]).encode()


def test_a_wrong_signature_is_refused_and_changes_nothing(world: BillingWorld) -> None:
    visitor, _ = _signed_up(world)
    account = _subscribe(world, visitor)
    sub = dict(world.standin.state.subscriptions[account.subscription.subscription_id])
    forged = {
        **world.standin.state.events[-1],
        "id": "evt_forged",
        "type": "customer.subscription.deleted",
        "data": {"object": {**sub, "status": "canceled"}},
    }
    body = json.dumps(forged).encode()

    wrong_key = _post_event(world, body, signature_header(body, "whsec_attacker", int(time.time())))
    tampered = _post_event(world, body, signature_header(b"{}", WEBHOOK_SECRET, int(time.time())))
    unsigned = _post_event(world, body, "")

    assert [a.status_code for a in (wrong_key, tampered, unsigned)] == [400, 400, 400]
    assert _accounts().require(account.id).subscription.status == "trialing"


def test_a_stale_timestamp_is_refused(world: BillingWorld) -> None:
    body = _event(world) if world.standin.state.events else b'{"id": "evt_x", "type": "invoice.paid"}'
    old = int(time.time()) - bootstrap.worker().settings.stripe_webhook_tolerance_seconds - 5

    answer = _post_event(world, body, signature_header(body, WEBHOOK_SECRET, old))

    assert answer.status_code == 400


def test_a_replayed_event_is_applied_once(world: BillingWorld) -> None:
    visitor, _ = _signed_up(world)
    account = _subscribe(world, visitor)
    completed = next(
        e for e in reversed(world.standin.state.events) if e["type"] == "checkout.session.completed"
    )
    body = json.dumps(completed).encode()

    replayed = _post_event(world, body, signature_header(body, WEBHOOK_SECRET, int(time.time())))

    assert replayed.status_code == 200 and replayed.json()["duplicate"] is True
    assert _accounts().require(account.id).subscription.status == "trialing"


def test_another_accounts_subscription_is_untouchable(world: BillingWorld) -> None:
    owner_visitor, _ = _signed_up(world)
    owner = _subscribe(world, owner_visitor)
    _, intruder = _signed_up(world)
    # A genuine, signed checkout event naming the intruder's account but the owner's customer.
    completed = next(
        e for e in reversed(world.standin.state.events) if e["type"] == "checkout.session.completed"
    )
    crossed = {**completed, "id": "evt_" + uuid.uuid4().hex}
    crossed["data"] = {"object": {**completed["data"]["object"], "client_reference_id": intruder.id}}
    body = json.dumps(crossed).encode()

    answer = _post_event(world, body, signature_header(body, WEBHOOK_SECRET, int(time.time())))

    assert answer.status_code == 200 and answer.json()["outcome"] == "not ours"
    assert _accounts().require(intruder.id).subscription.subscription_id == ""
    assert _accounts().require(intruder.id).plan == "trial"
    assert _accounts().require(owner.id).subscription == owner.subscription


def test_the_portal_link_is_always_the_signed_in_accounts_own(world: BillingWorld) -> None:
    owner_visitor, _ = _signed_up(world)
    owner = _subscribe(world, owner_visitor)
    intruder_visitor, intruder = _signed_up(world)

    intruder_visitor.get("/account")
    to_portal = intruder_visitor.post(
        "/account/billing/portal",
        {"customer": owner.subscription.customer_id},  # an extra field is ignored
    )

    portal_id = to_portal.headers["Location"].rsplit("/", 1)[1]
    customer = world.standin.state.portal_sessions[portal_id]["customer"]
    assert customer != owner.subscription.customer_id
    assert customer == _accounts().require(intruder.id).subscription.customer_id


def test_a_trial_with_less_than_two_days_left_is_charged_at_once(world: BillingWorld) -> None:
    visitor, account = _signed_up(world)
    _accounts().update(account.id, lambda a: setattr(a, "trial_ends_at", utc_now() + timedelta(hours=30)))

    subscribed = _subscribe(world, visitor)

    assert subscribed.subscription.status == "active"
    assert world.standin.state.subscriptions[subscribed.subscription.subscription_id]["trial_end"] is None


def test_an_event_stripe_cannot_confirm_answers_503_and_is_applied_when_delivered_again(
    world: BillingWorld,
) -> None:
    import stripe

    from local.ports import free_port
    from local.sandbox.stripe.server import SECRET_KEY
    from shared.billing.service import BillingService
    from shared.billing.store import BillingStore
    from shared.billing.webhook import receive

    visitor, _ = _signed_up(world)
    account = _subscribe(world, visitor)
    created = next(
        e
        for e in world.standin.state.events
        if e["type"] == "customer.subscription.created"
        and e["data"]["object"]["id"] == account.subscription.subscription_id
    )
    again = {**created, "id": "evt_" + uuid.uuid4().hex, "type": "customer.subscription.updated"}
    body = json.dumps(again).encode()
    settings = bootstrap.worker().settings
    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = BillingService(
        lambda: stripe.StripeClient(SECRET_KEY, base_addresses={"api": nowhere}, max_network_retries=0),
        _accounts(),
        BillingStore.from_settings(settings),
        settings,
    )

    first = receive(body, signature_header(body, WEBHOOK_SECRET, int(time.time())), unreachable, utc_now())
    retried = _post_event(world, body, signature_header(body, WEBHOOK_SECRET, int(time.time())))

    assert first.status == 503
    assert retried.status_code == 200 and retried.json()["outcome"] == "applied"


def test_deleting_the_account_cancels_its_subscription_first(world: BillingWorld) -> None:
    visitor, _ = _signed_up(world)
    account = _subscribe(world, visitor, "starter")
    subscription_id = account.subscription.subscription_id
    assert world.standin.state.subscriptions[subscription_id]["status"] == "trialing"

    visitor.get("/account/delete")
    deleted = visitor.post("/account/delete", {"delete_password": "correct horse 42 battery"})

    assert deleted.status_code == 303 and deleted.headers["Location"] == "/"
    assert world.standin.state.subscriptions[subscription_id]["status"] == "canceled"
    assert _accounts().get(account.id) is None
