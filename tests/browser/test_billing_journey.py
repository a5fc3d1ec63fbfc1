"""From the free trial to a paid plan in real Chromium: the account page, Stripe's Checkout page (the
stand-in's), back to the portal, the plan active; then Stripe's customer portal and back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from local.azurite import Azurite
from tests.browser.journey_steps import Shots, register_and_set_password, until
from tests.integration.billing_stack import BillingWorld, billing_world

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BillingWorld]:
    with billing_world(azurite, tmp_path_factory.mktemp("billing-browser")) as running:
        yield running


def test_trial_to_paid_through_stripe_checkout(page: Page, world: BillingWorld, screenshots: Path) -> None:
    shot, url = Shots(page, screenshots, "billing"), world.portal.url
    register_and_set_password(page, url, f"ana.{uuid.uuid4().hex[:8]}@kiwi.example", shot)

    page.goto(url + "/account")
    expect(page.locator("#subscription-plan")).to_have_text("Free trial")
    shot("account-on-trial")
    page.get_by_role("button", name=re.compile(r"^Subscribe to Business")).click()

    expect(page).to_have_url(re.compile("^" + re.escape(world.standin.url) + "/c/pay/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscribe to Dynamics to Xero — Business")
    expect(page.get_by_text(re.compile(r"^Free until"))).to_be_visible()  # the trial's days carried over
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("ZIP").fill("10001")
    shot("stripe-checkout")
    page.get_by_role("button", name="Subscribe").click()

    expect(page).to_have_url(re.compile("^" + re.escape(url) + "/account"))
    until(
        lambda: _reloaded_status(page) == "Trial (card on file)", what="the subscription on the account page"
    )
    expect(page.locator("#subscription-plan")).to_have_text("Business")
    expect(page.locator("#subscription-next-charge")).to_contain_text("USD 49.00 plus tax on")
    expect(page.get_by_role("button", name=re.compile(r"^Current plan: Business"))).to_be_visible()
    shot("account-subscribed")

    page.get_by_role("button", name=re.compile("Manage card, billing details and invoices")).click()
    expect(page).to_have_url(re.compile("^" + re.escape(world.standin.url) + "/p/session/"))
    expect(page.locator("li.subscription")).to_contain_text("trialing")
    page.get_by_role("link", name="Return").click()
    expect(page).to_have_url(re.compile("^" + re.escape(url) + "/account"))


def _reloaded_status(page: Page) -> str:
    page.reload()
    status = page.locator("#subscription-status")
    return status.inner_text() if status.count() else ""
