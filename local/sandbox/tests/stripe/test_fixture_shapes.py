"""Every object the stand-in answers has exactly the fields of Stripe's own example of that resource
(Stripe's OpenAPI fixtures3.json), at every level where both have an object, and the official stripe
library turns each into its typed class."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe
from stripe._object_classes import OBJECT_CLASSES
from stripe._util import convert_to_stripe_object

from local.sandbox.stripe import StripeSandbox
from local.sandbox.tests.stripe.conftest import make_plan, subscribe
from tests.reference_material import STRIPE_FIXTURES, require

FREE_FORM = {"metadata"}  # maps of the integrator's own keys, not fields


@pytest.fixture(scope="module")
def stripe_examples() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(Path(require(STRIPE_FIXTURES)).read_text())["resources"]
    return resources


def field_differences(ours: Any, theirs: Any, path: str) -> list[str]:
    """Fields missing or extra, recursively where both sides hold an object (or a list of them)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = [f"{path}.{k}: extra" for k in ours.keys() - theirs.keys()]
        found += [f"{path}.{k}: missing" for k in theirs.keys() - ours.keys()]
        for key in ours.keys() & theirs.keys():
            if key in FREE_FORM or f"{path}.{key}" == "event.data.object":  # an event's object: checked alone
                continue
            found += field_differences(ours[key], theirs[key], f"{path}.{key}")
        return found
    if isinstance(ours, list) and isinstance(theirs, list) and ours and theirs:
        return [d for item in ours for d in field_differences(item, theirs[0], f"{path}[]")]
    return []


def exercise_every_call(client: stripe.StripeClient, web: requests.Session, standin: StripeSandbox) -> None:
    """Every call the product makes, and every event the stand-in can send."""
    price = make_plan(client)
    bigger = make_plan(client, "business", 4900)
    client.v1.prices.list(params={"lookup_keys": ["starter_monthly"]})
    client.v1.products.retrieve(price.product if isinstance(price.product, str) else price.product.id)
    customer = client.v1.customers.create(
        params={"email": "ap@fabrikam.example", "metadata": {"account": "a"}}
    )
    client.v1.customers.retrieve(customer.id)
    client.v1.customers.update(customer.id, params={"name": "Fabrikam"})
    session = subscribe(client, web, price, customer.id, card="4000000000000341", trial_days=14)
    assert isinstance(session.subscription, str)
    sub = client.v1.subscriptions.retrieve(session.subscription)
    client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": sub["items"].data[0].id, "price": bigger.id}]}
    )
    web.post(f"{standin.url}/_sandbox/subscriptions/{sub.id}/renew")  # the failing card: payment_failed
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "http://x/"}
    )
    web.post(portal.url + "/card", data={"cardNumber": "4242424242424242"})  # pays: invoice.paid
    client.v1.subscriptions.list(params={"customer": customer.id})
    client.v1.subscriptions.cancel(sub.id)


def test_every_answer_has_exactly_the_fields_of_stripes_example(
    stripe_examples: dict[str, Any],
    client: stripe.StripeClient,
    web: requests.Session,
    standin: StripeSandbox,
) -> None:
    exercise_every_call(client, web, standin)
    kinds = {kind for kind, _ in standin.state.answered}
    assert kinds >= {
        "customer",
        "product",
        "price",
        "checkout.session",
        "billing_portal.session",
        "subscription",
        "invoice",
        "event",
    }
    event_types = {e["type"] for e in standin.state.events}
    assert event_types >= {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
    differences = [
        d for kind, obj in standin.state.answered for d in field_differences(obj, stripe_examples[kind], kind)
    ]
    assert differences == [], sorted(set(differences))


def test_the_stripe_library_parses_each_answer_into_its_class(
    stripe_examples: dict[str, Any],
    client: stripe.StripeClient,
    web: requests.Session,
    standin: StripeSandbox,
) -> None:
    exercise_every_call(client, web, standin)
    for kind, obj in standin.state.answered:
        parsed = convert_to_stripe_object(obj)
        module, name = OBJECT_CLASSES[kind]
        assert type(parsed).__module__ == module and type(parsed).__name__ == name, kind
        assert parsed.id == obj["id"]


def test_the_shape_check_catches_a_missing_or_extra_field(stripe_examples: dict[str, Any]) -> None:
    customer = dict(stripe_examples["customer"])
    customer.pop("email")
    customer["plan"] = "starter"
    assert sorted(field_differences(customer, stripe_examples["customer"], "customer")) == [
        "customer.email: missing",
        "customer.plan: extra",
    ]
