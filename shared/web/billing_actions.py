"""The account page's billing: what it shows (plan, status, next charge) and what its buttons do."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import azure.functions as func

from shared.billing.allowance import WARN_AT, plan_in_force
from shared.billing.client import BillingNotConfiguredError, price_ids
from shared.billing.service import BillingService
from shared.billing.subscriptions import LIVE
from shared.config import Settings
from shared.store.models import Account, Connection
from shared.store.plans import PLANS, plan_named
from shared.web.pages import Page

if TYPE_CHECKING:
    from shared.billing.enforcement import Enforcer

log = logging.getLogger("portal.billing")
STATUS_TEXT = {
    "trialing": "Trial (card on file)",
    "active": "Active",
    "past_due": "Payment failed — please update your card",
    "unpaid": "Unpaid — please update your card",
    "canceled": "Cancelled",
}


@dataclass(frozen=True)
class BillingView:
    enabled: bool
    status: str  # words, "" before any subscription
    next_charge: datetime | None
    next_amount: str
    live: bool
    has_customer: bool
    plans: list[dict[str, str]]  # the paid plans: name, label, price


def billing_view(account: Account, settings: Settings) -> BillingView:
    held = account.subscription
    live = bool(held.subscription_id) and held.status in LIVE
    plan = plan_named(account.plan)
    amount = f"{plan.currency} {plan.monthly_price_cents / 100:,.2f}" if plan and live else ""
    offered = price_ids(settings)
    return BillingView(
        enabled=bool(settings.stripe_secret_key) and bool(offered),
        status=STATUS_TEXT.get(held.status, held.status),
        next_charge=None if held.cancel_at_period_end else held.current_period_end,
        next_amount=amount,
        live=live,
        has_customer=bool(held.customer_id),
        plans=[
            {"name": p.name, "label": p.label, "price": f"{p.currency} {p.monthly_price_cents / 100:,.2f}"}
            for p in PLANS.values()
            if p.name in offered
        ],
    )


def plan_facts(account: Account, plan: str, trial: str, now: datetime, billing_on: bool) -> tuple[str, str]:
    """The connection page's "Plan" and "Trial" lines. With billing on, the account's subscription and
    trial decide (and an ended trial pauses syncing), not the connection's own trial dates."""
    if not billing_on:
        return plan, trial
    held, ends = account.subscription, account.trial_ends_at
    in_force = plan_in_force(account)
    if (held.subscription_id and held.status in LIVE) or ends is None:
        return in_force.label, ""
    if now < ends:
        return in_force.label, (
            f"Free until {ends:%d %B %Y} ({in_force.invoices_per_month:,} invoices a month); choose a plan "
            "on your account page to keep invoices flowing after that."
        )
    return (
        in_force.label,
        f"Your free trial ended on {ends:%d %B %Y}: new invoices wait until you choose a plan.",
    )


def usage_banner(account: Account, connection: Connection, now: datetime, enforcer: Enforcer | None) -> str:
    """Words for the connection page when its invoices wait, or 80% of the month's are used (billing on)."""
    if enforcer is None:
        return ""
    pause = enforcer.pause(connection, now)
    if pause is not None:
        return f"Invoices are waiting: {pause.headline}"
    plan, used = plan_in_force(account), enforcer.usage.count(connection.id, now)
    if used >= plan.invoices_per_month * WARN_AT:
        limit = plan.invoices_per_month
        return f"{used:,} of the {limit:,} invoices of the {plan.label} plan are used this month."
    return ""


def allow_stripe_redirects(response: func.HttpResponse, settings: Settings) -> func.HttpResponse:
    """The account page's billing buttons answer with a redirect to Stripe's hosted pages, and CSP's
    form-action governs where a form's answer may redirect: allow Stripe's Checkout and portal hosts
    (https://docs.stripe.com/security/guide#content-security-policy), or the stand-in's own."""
    base = urlsplit(settings.stripe_api_base)
    if base.hostname == "api.stripe.com":
        origins = ["https://checkout.stripe.com", "https://billing.stripe.com"]
    else:
        origins = (
            [f"{base.scheme}://{base.netloc}"] if base.scheme in ("http", "https") and base.netloc else []
        )
    policy = response.headers.get("Content-Security-Policy", "")
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", " ".join(["form-action 'self'", *origins]), 1
    )
    return response


def choose_plan(page: Page, account: Account, billing: BillingService) -> func.HttpResponse:
    import stripe

    plan = plan_named(page.field("plan"))
    if plan is None or plan.is_trial:
        page.flash("Choose one of the plans listed.")
        return page.redirect("/account#billing")
    try:
        if billing.has_live_subscription(account):
            if account.plan == plan.name:
                page.flash(f"You are already on {plan.label}.")
            else:
                billing.change_plan(account, plan.name, page.now)
                page.flash(f"Your plan is now {plan.label}.")
            return page.redirect("/account#billing")
        return page.redirect(billing.checkout_url(account, plan.name, page.now))
    except BillingNotConfiguredError:
        page.flash("Billing is not set up on this installation yet.")
    except stripe.StripeError as failed:
        log.warning("billing: Stripe refused or did not answer: %s", type(failed).__name__)
        page.flash("Stripe is not answering right now. Please try again in a minute.")
    return page.redirect("/account#billing")


def open_portal(page: Page, account: Account, billing: BillingService) -> func.HttpResponse:
    import stripe

    try:
        return page.redirect(billing.portal_url(account))
    except BillingNotConfiguredError:
        page.flash("Billing is not set up on this installation yet.")
    except stripe.StripeError as failed:
        log.warning("billing portal: %s", type(failed).__name__)
        page.flash("Stripe is not answering right now. Please try again in a minute.")
    return page.redirect("/account#billing")
