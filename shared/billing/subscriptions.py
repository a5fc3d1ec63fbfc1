"""A Stripe subscription, as Stripe last answered it, copied onto the account it belongs to.

Out-of-order and repeated events are harmless because the webhook never trusts the event's copy: it
lists the customer's subscriptions from Stripe (Stripe's advice, https://docs.stripe.com/webhooks#event-
ordering) and copies the current one, so whichever event comes last, the account ends as Stripe has it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.store.models import Account

# Stripe's statuses (https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses): these
# still hold a plan; canceled, incomplete(_expired) and paused do not.
LIVE = frozenset({"trialing", "active", "past_due", "unpaid"})
PAYMENT_FAILING = frozenset({"past_due", "unpaid"})


def current_of(subs: list[Any]) -> Any | None:
    """Which of a customer's subscriptions the account shows: a live one before an ended one, and among
    those the newest (a plan bought again after a cancellation; an old subscription's end never ends the
    current one)."""
    if not subs:
        return None
    return max(subs, key=lambda sub: (sub["status"] in LIVE, sub["created"], sub["id"]))


def apply_subscription(account: Account, sub: Any, plan: str | None, now: datetime) -> None:
    """`sub`: a stripe.Subscription (or its JSON): read by key, as both allow."""
    item = sub["items"]["data"][0]
    held = account.subscription
    held.subscription_id, held.customer_id, held.status = sub["id"], sub["customer"], sub["status"]
    held.price_id = item["price"]["id"]
    held.cancel_at_period_end = bool(sub["cancel_at_period_end"])
    live = sub["status"] in LIVE
    # Since API version 2025-03-31 the period is on the subscription item.
    held.current_period_end = datetime.fromtimestamp(item["current_period_end"], UTC) if live else None
    if sub["status"] in PAYMENT_FAILING:
        held.payment_failed_at = held.payment_failed_at or now
    else:
        held.payment_failed_at = None
    if live and plan:
        account.plan = plan
