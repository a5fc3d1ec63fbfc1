"""The official stripe library's client, pointed at STRIPE_API_BASE (Stripe, or the local stand-in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import Settings
from shared.errors import FatalError

if TYPE_CHECKING:
    import stripe


class BillingNotConfiguredError(FatalError):
    """STRIPE_SECRET_KEY (or a plan's price) is not set: nobody can subscribe."""


def stripe_client(settings: Settings) -> stripe.StripeClient:
    import stripe

    if not settings.stripe_secret_key:
        raise BillingNotConfiguredError("STRIPE_SECRET_KEY is not set")
    return stripe.StripeClient(
        settings.stripe_secret_key,
        base_addresses={"api": settings.stripe_api_base.rstrip("/")},
        # Retries reuse the library's Idempotency-Key, so a retried create is never a second object.
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=settings.http_timeout_seconds),
    )


def price_ids(settings: Settings) -> dict[str, str]:
    """STRIPE_PRICE_IDS "starter:price_…,business:price_…" as {plan: price id}."""
    pairs = (item.split(":", 1) for item in settings.stripe_price_ids.split(",") if ":" in item)
    return {plan.strip(): price.strip() for plan, price in pairs if price.strip()}


def plan_of_price(settings: Settings, price_id: str) -> str | None:
    return next((plan for plan, price in price_ids(settings).items() if price == price_id), None)
