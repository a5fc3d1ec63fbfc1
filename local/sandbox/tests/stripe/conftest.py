"""The Stripe stand-in on a free port, the official stripe library pointed at it, and an inbox that
receives its signed webhooks over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import stripe
from werkzeug.wrappers import Request, Response

from local.sandbox.common import ServerThread
from local.sandbox.stripe import StripeSandbox
from local.sandbox.stripe.server import SECRET_KEY

WEBHOOK_SECRET = "whsec_standin_tests"


@dataclass
class Inbox:
    """Records each webhook POST (raw body and Stripe-Signature) and answers 200."""

    received: list[tuple[bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.received.append((request.get_data(), request.headers.get("Stripe-Signature", "")))
        return Response("ok")(environ, start_response)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, str]]:
    box = Inbox()
    server = ServerThread(box).start()
    yield box, server.url + "/api/stripe/webhook"
    server.stop()


@pytest.fixture
def standin(inbox: tuple[Inbox, str]) -> Iterator[StripeSandbox]:
    with StripeSandbox(webhook_url=inbox[1], webhook_secret=WEBHOOK_SECRET) as sandbox:
        yield sandbox


@pytest.fixture
def client(standin: StripeSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": standin.url}, max_network_retries=0)


@pytest.fixture
def web() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def make_plan(client: stripe.StripeClient, key: str = "starter", cents: int = 1900) -> stripe.Price:
    product = client.v1.products.create(params={"id": f"prod_test_{key}", "name": key.title()})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": cents,
            "recurring": {"interval": "month"},
            "lookup_key": f"{key}_monthly",
        }
    )


def subscribe(
    client: stripe.StripeClient,
    web: requests.Session,
    price: stripe.Price,
    customer: str,
    card: str = "4242424242424242",
    trial_days: int = 0,
) -> stripe.checkout.Session:
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer,
        "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "http://portal.example/account?checkout={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://portal.example/account",
        "automatic_tax": {"enabled": True},
        "customer_update": {"address": "auto"},
    }
    if trial_days:
        params["subscription_data"] = {"trial_end": int(time.time()) + trial_days * 86400}
    session = client.v1.checkout.sessions.create(params=params)
    page = web.post(
        session.url,
        data={"cardNumber": card, "billingCountry": "US", "billingPostalCode": "10001"},
        allow_redirects=False,
    )
    assert page.status_code == 303, page.text
    return client.v1.checkout.sessions.retrieve(session.id)
