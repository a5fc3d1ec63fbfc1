"""The stand-in behaves as Stripe documents it for the calls the product makes (see
local/sandbox/stripe/state.py for the sources): authentication, idempotent replays, Checkout's rules,
the hosted pages, and webhooks signed so that the official library's verifier accepts them."""

from __future__ import annotations

import json
import time

import pytest
import requests
import stripe

from local.sandbox.stripe import StripeSandbox
from local.sandbox.tests.stripe.conftest import WEBHOOK_SECRET, Inbox, make_plan, subscribe


def test_a_call_without_the_secret_key_is_refused(standin: StripeSandbox) -> None:
    wrong = stripe.StripeClient("sk_test_wrong", base_addresses={"api": standin.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError):
        wrong.v1.customers.create(params={"email": "a@b.example"})
    assert standin.state.customers == {}


def test_every_webhook_verifies_with_the_official_library_and_matches_the_events(
    client: stripe.StripeClient, web: requests.Session, standin: StripeSandbox, inbox: tuple[Inbox, str]
) -> None:
    customer = client.v1.customers.create(params={"email": "ap@contoso.example"})
    subscribe(client, web, make_plan(client), customer.id, trial_days=3)
    assert standin.state.webhooks.wait_idle()
    received = inbox[0].received
    types = [stripe.Webhook.construct_event(body, sig, WEBHOOK_SECRET).type for body, sig in received]
    assert types == ["customer.subscription.created", "invoice.paid", "checkout.session.completed"]
    body, sig = received[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sig, "whsec_someone_else")


def test_the_same_idempotency_key_answers_the_first_result(
    client: stripe.StripeClient, standin: StripeSandbox
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "account-1-customer"}
    first = client.v1.customers.create(params={"email": "a@b.example"}, options=options)
    again = client.v1.customers.create(params={"email": "a@b.example"}, options=options)
    assert first.id == again.id and len(standin.state.customers) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={"email": "other@b.example"}, options=options)


def test_a_trial_ending_within_48_hours_is_refused(client: stripe.StripeClient) -> None:
    price = make_plan(client)
    customer = client.v1.customers.create(params={"email": "a@b.example"})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer.id,
                "line_items": [{"price": price.id, "quantity": 1}],
                "success_url": "http://x/ok",
                "subscription_data": {"trial_end": int(time.time()) + 47 * 3600},
            }
        )
    assert refused.value.param == "subscription_data[trial_end]"


def test_automatic_tax_needs_an_address_or_customer_update(client: stripe.StripeClient) -> None:
    price = make_plan(client)
    customer = client.v1.customers.create(params={"email": "a@b.example"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer.id,
                "line_items": [{"price": price.id, "quantity": 1}],
                "success_url": "http://x/ok",
                "automatic_tax": {"enabled": True},
            }
        )


def test_a_declined_card_stays_on_the_page_and_back_goes_to_the_cancel_url(
    client: stripe.StripeClient, web: requests.Session, standin: StripeSandbox
) -> None:
    price = make_plan(client)
    customer = client.v1.customers.create(params={"email": "a@b.example"})
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "http://portal.example/ok",
            "cancel_url": "http://portal.example/back",
        }
    )
    declined = web.post(session.url, data={"cardNumber": "4000000000000002"}, allow_redirects=False)
    assert declined.status_code == 402 and "declined" in declined.text
    back = web.get(session.url + "/cancel", allow_redirects=False)
    assert back.headers["Location"] == "http://portal.example/back"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert standin.state.subscriptions == {}


def test_a_failed_renewal_makes_the_subscription_past_due_until_a_new_card_pays(
    client: stripe.StripeClient, web: requests.Session, standin: StripeSandbox
) -> None:
    customer = client.v1.customers.create(params={"email": "a@b.example"})
    session = subscribe(client, web, make_plan(client), customer.id, card="4000000000000341", trial_days=3)
    sub_id = str(session.subscription)
    assert client.v1.subscriptions.retrieve(sub_id).status == "trialing"
    failed = web.post(f"{standin.url}/_sandbox/subscriptions/{sub_id}/renew").json()
    assert failed["status"] == "open" and failed["attempt_count"] == 1
    assert client.v1.subscriptions.retrieve(sub_id).status == "past_due"
    portal = client.v1.billing_portal.sessions.create(params={"customer": customer.id})
    web.post(portal.url + "/card", data={"cardNumber": "4242424242424242"})
    assert client.v1.subscriptions.retrieve(sub_id).status == "active"
    assert standin.state.invoices[failed["id"]]["status"] == "paid"


def test_a_portal_session_cannot_cancel_another_customers_subscription(
    client: stripe.StripeClient, web: requests.Session, standin: StripeSandbox
) -> None:
    price = make_plan(client)
    mine = client.v1.customers.create(params={"email": "me@a.example"})
    theirs = client.v1.customers.create(params={"email": "them@b.example"})
    their_sub = str(subscribe(client, web, price, theirs.id).subscription)
    portal = client.v1.billing_portal.sessions.create(params={"customer": mine.id})
    answer = web.post(f"{portal.url}/cancel/{their_sub}", allow_redirects=False)
    assert answer.status_code == 404
    assert client.v1.subscriptions.retrieve(their_sub).status == "active"


def test_a_lookup_key_names_one_active_price(client: stripe.StripeClient) -> None:
    price = make_plan(client)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.create(
            params={
                "product": str(price.product),
                "currency": "usd",
                "unit_amount": 2900,
                "recurring": {"interval": "month"},
                "lookup_key": "starter_monthly",
            }
        )
    found = client.v1.prices.list(params={"lookup_keys": ["starter_monthly"]}).data
    assert [p.id for p in found] == [price.id]
    assert json.loads(str(found[0]))["unit_amount"] == 1900


def test_an_unknown_parameter_is_refused_as_stripe_refuses_it(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.create(params={"email": "a@b.example", "plan": "starter"})  # type: ignore[typeddict-unknown-key]
    assert (refused.value.code, refused.value.param) == ("parameter_unknown", "plan")


def test_tax_id_collection_for_an_existing_customer_needs_customer_update_name(
    client: stripe.StripeClient,
) -> None:
    price = make_plan(client)
    customer = client.v1.customers.create(params={"email": "a@b.example"})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer.id,
                "line_items": [{"price": price.id, "quantity": 1}],
                "success_url": "http://x/ok",
                "tax_id_collection": {"enabled": True},
            }
        )
    assert refused.value.param == "customer_update[name]"


def test_a_card_that_fails_charges_is_declined_when_checkout_charges_at_once(
    client: stripe.StripeClient, web: requests.Session, standin: StripeSandbox
) -> None:
    customer = client.v1.customers.create(params={"email": "a@b.example"})
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": make_plan(client).id, "quantity": 1}],
            "success_url": "http://x/ok",
        }
    )
    answer = web.post(session.url, data={"cardNumber": "4000000000000341"}, allow_redirects=False)
    assert answer.status_code == 402 and standin.state.subscriptions == {}
