"""The portal (local host in-process) billing through the Stripe stand-in: the product's settings point
at the stand-in, the plans are set up by the product's own setup command, and the stand-in's webhooks go
to the portal's /api/stripe/webhook over real HTTP."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import stripe

from local.azurite import Azurite
from local.sandbox.stripe import StripeSandbox
from local.sandbox.stripe.server import SECRET_KEY
from shared.billing.setup import ensure_plans, setting_value
from tests.browser.portal_stack import Portal, running_portal
from tests.support.stack import forget_app

WEBHOOK_SECRET = "whsec_billing_tests"


@dataclass
class BillingWorld:
    portal: Portal
    standin: StripeSandbox
    client: stripe.StripeClient
    prices: dict[str, str]


@contextlib.contextmanager
def billing_world(azurite: Azurite, work_dir: Path) -> Iterator[BillingWorld]:
    standin = StripeSandbox().start()
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": standin.url}, max_network_retries=0)
    prices = ensure_plans(client)
    saved = {
        name: os.environ.get(name)
        for name in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_IDS")
    }
    os.environ.update(
        {
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_API_BASE": standin.url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_PRICE_IDS": setting_value(prices),
        }
    )
    forget_app()  # running_portal builds the app, billing collaborators included, from these settings
    try:
        with running_portal(azurite, work_dir) as portal:
            standin.state.webhooks.configure(portal.url + "/api/stripe/webhook", WEBHOOK_SECRET)
            yield BillingWorld(portal, standin, client, prices)
    finally:
        forget_app()
        standin.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
