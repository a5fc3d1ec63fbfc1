"""`python -m shared.billing.setup`: create (once) a Stripe Product and monthly Price per paid plan and
print the STRIPE_PRICE_IDS setting. Run it again at any time: it finds what it made before.

Idempotent by Stripe's own keys: the product's id is ours (`dxc_<plan>`; Stripe accepts an id on create,
https://docs.stripe.com/api/products/create#create_product-id) and the price is found by its lookup_key
(https://docs.stripe.com/api/prices/list#list_prices-lookup_keys). A plan whose price changed gets a new
Price that takes the lookup key over (transfer_lookup_key); Stripe prices are immutable."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from shared.store.plans import PLANS, Plan

if TYPE_CHECKING:
    import stripe


def product_id(plan: Plan) -> str:
    return f"dxc_{plan.name}"


def lookup_key(plan: Plan) -> str:
    return f"dxc_{plan.name}_monthly"


def ensure_plans(client: stripe.StripeClient) -> dict[str, str]:
    """{plan name: price id} for every paid plan, creating only what is missing."""
    return {plan.name: _ensure_price(client, plan) for plan in PLANS.values() if not plan.is_trial}


def _ensure_product(client: stripe.StripeClient, plan: Plan) -> str:
    import stripe

    try:
        return str(client.v1.products.retrieve(product_id(plan)).id)
    except stripe.InvalidRequestError as error:
        if error.code != "resource_missing":
            raise
    created = client.v1.products.create(
        params={"id": product_id(plan), "name": f"Dynamics to Xero — {plan.label}"},
        options={"idempotency_key": f"product-{product_id(plan)}"},
    )
    return str(created.id)


def _ensure_price(client: stripe.StripeClient, plan: Plan) -> str:
    product = _ensure_product(client, plan)
    found = client.v1.prices.list(params={"lookup_keys": [lookup_key(plan)], "active": True}).data
    current = found[0] if found else None
    if (
        current is not None
        and current.unit_amount == plan.monthly_price_cents
        and current.currency == plan.currency.lower()
    ):
        return str(current.id)
    created = client.v1.prices.create(
        params={
            "product": product,
            "currency": plan.currency.lower(),
            "unit_amount": plan.monthly_price_cents,
            "recurring": {"interval": "month"},
            "lookup_key": lookup_key(plan),
            "transfer_lookup_key": current is not None,
            "tax_behavior": "exclusive",  # the plans' prices exclude tax (shared/store/plans.py)
        }
    )
    return str(created.id)


def setting_value(prices: dict[str, str]) -> str:
    return ",".join(f"{plan}:{price}" for plan, price in sorted(prices.items()))


def main() -> int:
    from shared.billing.client import stripe_client
    from shared.config import get_settings

    print(f"STRIPE_PRICE_IDS={setting_value(ensure_plans(stripe_client(get_settings())))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
