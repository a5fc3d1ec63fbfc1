"""POST /api/stripe/webhook: verify Stripe-Signature, apply the event once, answer.

- Signature: stripe-python's WebhookSignature.verify_header — HMAC-SHA256 of "<t>.<raw body>" with the
  endpoint secret, compared in constant time (hmac.compare_digest), timestamp no older than the tolerance
  (https://docs.stripe.com/webhooks#verify-manually). Anything else is 400 and changes nothing.
- Replays: an event id already applied is answered 200 and ignored (Stripe may send one event more than
  once, https://docs.stripe.com/webhooks#handle-duplicate-events); a captured delivery replayed later is
  also stale by its timestamp.
- Order: the customer's subscriptions are read from Stripe, never taken from the event
  (subscriptions.py), so every event of a customer simply brings the account up to date.
- Failure to reach Stripe or storage is 503: Stripe retries the delivery.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.billing.service import BillingService, NotYoursError

log = logging.getLogger("billing.webhook")
SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
}
INVOICE_EVENTS = {"invoice.paid", "invoice.payment_failed"}
HANDLED = SUBSCRIPTION_EVENTS | INVOICE_EVENTS | {"checkout.session.completed"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def receive(body: bytes, signature: str, billing: BillingService, now: datetime) -> Answer:
    import stripe

    secret = billing.settings.stripe_webhook_secret
    if not secret:
        return Answer(503, {"error": "STRIPE_WEBHOOK_SECRET is not set"})
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"), signature, secret, billing.settings.stripe_webhook_tolerance_seconds
        )
        event = json.loads(body)
        event_id, event_type, obj = str(event["id"]), str(event["type"]), event["data"]["object"]
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, KeyError, TypeError) as bad:
        log.warning("stripe webhook refused: %s", type(bad).__name__)
        return Answer(400, {"error": "invalid signature or payload"})
    if event_type not in HANDLED:
        return Answer(200, {"received": event_id, "ignored": "not an event this app uses"})
    if not billing.store.claim_event(event_id, event_type, now):
        return Answer(200, {"received": event_id, "duplicate": True})
    try:
        outcome = _apply(event_type, obj, billing, now)
    except NotYoursError as foreign:
        log.warning("stripe event %s %s not applied: %s", event_id, event_type, foreign)
        outcome = "not ours"
    except stripe.StripeError as trouble:  # Stripe busy or unreachable: its retry brings the event again
        billing.store.release_event(event_id)
        log.warning(
            "stripe event %s %s: Stripe did not answer: %s", event_id, event_type, type(trouble).__name__
        )
        return Answer(503, {"error": "Stripe did not answer; deliver again"})
    except Exception:
        billing.store.release_event(event_id)
        raise
    log.info("stripe event %s %s: %s", event_id, event_type, outcome)
    return Answer(200, {"received": event_id, "outcome": outcome})


def _apply(event_type: str, obj: dict[str, Any], billing: BillingService, now: datetime) -> str:
    customer = str(obj.get("customer") or "")
    if event_type == "checkout.session.completed":
        # The customer the session charged must be the one we created for the account it names.
        account_id = str(obj.get("client_reference_id") or "")
        if obj.get("mode") != "subscription" or not account_id or not customer:
            return "not a subscription checkout"
    else:
        account_id = billing.store.account_of(customer) or ""
        if not account_id:
            raise NotYoursError(f"customer {customer or '(none)'} is not linked to an account")
    return "applied" if billing.refresh(account_id, customer, now) else "no such account"
