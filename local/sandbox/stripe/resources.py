"""The objects the stand-in answers, each with exactly the fields of Stripe's example of that resource
(Stripe's OpenAPI fixtures, fixtures3.json). Fields the product never sets hold Stripe's "nothing here"
value (null, [], {} or false) as the API reference documents for them; nested objects keep the fixture's
keys. local/sandbox/tests/stripe/test_fixture_shapes.py compares every answer with the fixture.
"""

from __future__ import annotations

from typing import Any

EMPTY_ADDRESS = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}


def address(value: dict[str, Any] | None) -> dict[str, Any]:
    return {**EMPTY_ADDRESS, **{k: v for k, v in (value or {}).items() if k in EMPTY_ADDRESS}}


def customer(
    id: str, created: int, email: str | None, name: str | None, metadata: dict[str, str], prefix: str
) -> dict[str, Any]:
    return {
        "address": address(None),
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": email,
        "id": id,
        "invoice_prefix": prefix,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata,
        "name": name,
        "next_invoice_sequence": 1,
        "object": "customer",
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def product(
    id: str, created: int, name: str, description: str | None, metadata: dict[str, str]
) -> dict[str, Any]:
    return {
        "active": True,
        "created": created,
        "default_price": None,
        "description": description,
        "id": id,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata,
        "name": name,
        "object": "product",
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": created,
        "url": None,
    }


def price(
    id: str,
    created: int,
    product_id: str,
    currency: str,
    unit_amount: int,
    interval: str,
    lookup_key: str | None,
    metadata: dict[str, str],
    tax_behavior: str,
) -> dict[str, Any]:
    return {
        "active": True,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "id": id,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata,
        "nickname": None,
        "object": "price",
        "product": product_id,
        "recurring": {
            "interval": interval,
            "interval_count": 1,
            "meter": None,
            "usage_type": "licensed",
            "trial_period_days": None,
        },
        "tax_behavior": tax_behavior,
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def plan_of(price_object: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` Stripe still nests in a subscription item, mirroring its price."""
    recurring = price_object["recurring"]
    return {
        "active": True,
        "amount": price_object["unit_amount"],
        "amount_decimal": price_object["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price_object["created"],
        "currency": price_object["currency"],
        "id": price_object["id"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": price_object["metadata"],
        "meter": None,
        "nickname": None,
        "object": "plan",
        "product": price_object["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def subscription_item(
    id: str, created: int, subscription_id: str, price_object: dict[str, Any], period: tuple[int, int]
) -> dict[str, Any]:
    # Since API version 2025-03-31 the billing period lives on the item, not on the subscription.
    return {
        "billing_thresholds": None,
        "created": created,
        "current_period_end": period[1],
        "current_period_start": period[0],
        "discounts": [],
        "id": id,
        "metadata": {},
        "object": "subscription_item",
        "plan": plan_of(price_object),
        "price": dict(price_object),
        "quantity": 1,
        "subscription": subscription_id,
        "tax_rates": [],
    }


def subscription(
    id: str,
    created: int,
    customer_id: str,
    item: dict[str, Any],
    status: str,
    trial: tuple[int, int] | None,
    metadata: dict[str, str],
    automatic_tax: bool,
) -> dict[str, Any]:
    return {
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"enabled": automatic_tax, "liability": None, "disabled_reason": None},
        "billing_cycle_anchor": item["current_period_start"],
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "classic", "flexible": None},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": item["price"]["currency"],
        "customer": customer_id,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "id": id,
        "invoice_settings": {
            "account_tax_ids": None,
            "issuer": {"type": "self"},
            "custom_fields": None,
            "description": None,
            "footer": None,
        },
        "items": {
            "data": [item],
            "has_more": False,
            "object": "list",
            "url": f"/v1/subscription_items?subscription={id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "object": "subscription",
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial[1] if trial else None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": trial[0] if trial else None,
    }


def invoice(
    id: str,
    created: int,
    customer_object: dict[str, Any],
    sub: dict[str, Any],
    amount: int,
    billing_reason: str,
    number: str,
    hosted_url: str,
) -> dict[str, Any]:
    item = sub["items"]["data"][0]
    period = (item["current_period_start"], item["current_period_end"])
    line = {
        "amount": amount,
        "currency": item["price"]["currency"],
        "description": f"1 × {item['price']['product']} (at {amount / 100:.2f} / month)",
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "id": f"il_{id[3:]}",
        "invoice": id,
        "livemode": False,
        "metadata": {},
        "object": "line_item",
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": {"type": "price_details", "unit_amount_decimal": str(amount)},
        "quantity": 1,
        "quantity_decimal": "1",
        "subscription": sub["id"],
        "subtotal": amount,
        "taxes": [],
    }
    return {
        "account_country": "US",
        "account_name": "Dynamics to Xero connector",
        "account_tax_ids": None,
        "amount_due": amount,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": amount,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {
            "enabled": sub["automatic_tax"]["enabled"],
            "liability": None,
            "status": "complete" if sub["automatic_tax"]["enabled"] else None,
            "disabled_reason": None,
            "provider": "stripe" if sub["automatic_tax"]["enabled"] else None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": item["price"]["currency"],
        "custom_fields": None,
        "customer": customer_object["id"],
        "customer_account": None,
        "customer_address": customer_object["address"],
        "customer_email": customer_object["email"],
        "customer_name": customer_object["name"],
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": created,
        "ending_balance": 0,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": hosted_url,
        "id": id,
        "invoice_pdf": f"{hosted_url}/pdf",
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {"data": [line], "has_more": False, "object": "list", "url": f"/v1/invoices/{id}/lines"},
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": number,
        "object": "invoice",
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": sub["metadata"], "subscription": sub["id"]},
            "type": "subscription_details",
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "open",
        "status_transitions": {
            "finalized_at": created,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subscription": sub["id"],
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "test_clock": None,
        "total": amount,
        "total_discount_amounts": [],
        "total_excluding_tax": amount,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": created,
    }


def checkout_session(
    id: str,
    created: int,
    expires_at: int,
    url: str,
    params: dict[str, Any],
    customer_object: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "adaptive_pricing": None,
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": None,
        "amount_total": None,
        "automatic_tax": {
            "enabled": params["automatic_tax"],
            "liability": {"type": "self"} if params["automatic_tax"] else None,
            "status": None,
            "provider": None,
        },
        "billing_address_collection": params.get("billing_address_collection"),
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": params["currency"],
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": customer_object["id"] if customer_object else None,
        "customer_account": None,
        "customer_creation": None if customer_object else "always",
        "customer_details": None,
        "customer_email": params.get("customer_email"),
        "discounts": [],
        "expires_at": expires_at,
        "id": id,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": None,
        "managed_payments": None,
        "metadata": params.get("metadata", {}),
        "mode": "subscription",
        "object": "checkout.session",
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": params.get("success_url"),
        "total_details": None,
        "ui_mode": "hosted",
        "url": url,
        "wallet_options": None,
    }


def customer_details(customer_object: dict[str, Any]) -> dict[str, Any]:
    """What Checkout collected from the payer (set when the session completes)."""
    return {
        "address": customer_object["address"],
        "email": customer_object["email"],
        "name": customer_object["name"],
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
        "business_name": None,
        "individual_name": None,
    }


def portal_session(
    id: str, created: int, customer_id: str, return_url: str | None, url: str
) -> dict[str, Any]:
    return {
        "configuration": "bpc_standin_default",
        "created": created,
        "customer": customer_id,
        "customer_account": None,
        "flow": None,
        "id": id,
        "livemode": False,
        "locale": None,
        "object": "billing_portal.session",
        "on_behalf_of": None,
        "return_url": return_url,
        "url": url,
    }


def event(id: str, created: int, type: str, data_object: dict[str, Any], api_version: str) -> dict[str, Any]:
    return {
        "api_version": api_version,
        "created": created,
        "data": {"object": data_object},
        "id": id,
        "livemode": False,
        "object": "event",
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }


def list_of(objects: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": objects, "has_more": False, "url": url}
