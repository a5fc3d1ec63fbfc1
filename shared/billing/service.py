"""What the account page asks of billing: subscribe (Stripe Checkout), change plan, open the Customer
Portal, and bring a subscription from Stripe onto its account.

Choices: one Stripe Customer per portal account, created on the first billing action with an
Idempotency-Key derived from the account id (a double click is one customer). A trial's remaining days
carry over into the subscription when at least 48 hours are left (Checkout refuses a nearer trial_end,
https://docs.stripe.com/api/checkout/sessions/create#create_checkout_session-subscription_data-trial_end);
otherwise the first month is charged at once. A change of plan updates the live subscription's item
(https://docs.stripe.com/billing/subscriptions/change-price) — Checkout only ever creates a new one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.billing.client import BillingNotConfiguredError, plan_of_price, price_ids
from shared.billing.store import BillingStore
from shared.billing.subscriptions import LIVE, apply_subscription, current_of
from shared.config import Settings
from shared.errors import FatalError
from shared.store.accounts import AccountStore
from shared.store.models import Account

if TYPE_CHECKING:
    import stripe

log = logging.getLogger("billing")
MINIMUM_TRIAL_LEFT = timedelta(hours=48)


class NotYoursError(FatalError):
    """A Stripe object that belongs to another account (or to none of ours)."""


@dataclass
class BillingService:
    client: Callable[[], stripe.StripeClient]
    accounts: AccountStore
    store: BillingStore
    settings: Settings

    def customer_id(self, account: Account) -> str:
        if account.subscription.customer_id:
            return account.subscription.customer_id
        customer = self.client().v1.customers.create(
            params={
                "email": account.email,
                "name": account.company or account.name or account.email,
                "metadata": {"account_id": account.id},
            },
            options={"idempotency_key": f"customer-{account.id}"},
        )
        self.store.link_customer(customer.id, account.id)

        def remember(fresh: Account) -> None:
            fresh.subscription.customer_id = fresh.subscription.customer_id or customer.id

        return self.accounts.update(account.id, remember).subscription.customer_id

    def checkout_url(self, account: Account, plan: str, now: datetime) -> str:
        price = self._price(plan)
        params: Any = {
            "mode": "subscription",
            "customer": self.customer_id(account),
            "client_reference_id": account.id,
            "line_items": [{"price": price, "quantity": 1}],
            "success_url": self._url("/account?subscribed={CHECKOUT_SESSION_ID}"),
            "cancel_url": self._url("/account#billing"),
            "automatic_tax": {"enabled": True},
            "customer_update": {"address": "auto", "name": "auto"},
            "tax_id_collection": {"enabled": True},
            "subscription_data": {"metadata": {"account_id": account.id, "plan": plan}},
            "metadata": {"account_id": account.id, "plan": plan},
        }
        if account.trial_ends_at and account.trial_ends_at - now >= MINIMUM_TRIAL_LEFT:
            params["subscription_data"]["trial_end"] = int(account.trial_ends_at.timestamp())
        session = self.client().v1.checkout.sessions.create(params=params)
        return str(session.url)

    def change_plan(self, account: Account, plan: str, now: datetime) -> Account:
        price = self._price(plan)
        held = account.subscription
        sub = self.client().v1.subscriptions.retrieve(held.subscription_id)
        if sub.customer != held.customer_id:
            raise NotYoursError(f"subscription {held.subscription_id} is not account {account.id}'s")
        item = sub["items"]["data"][0]
        updated = self.client().v1.subscriptions.update(
            sub.id,
            params={"items": [{"id": item["id"], "price": price}], "proration_behavior": "create_prorations"},
        )
        return self.accounts.update(account.id, lambda fresh: apply_subscription(fresh, updated, plan, now))

    def portal_url(self, account: Account) -> str:
        session = self.client().v1.billing_portal.sessions.create(
            params={"customer": self.customer_id(account), "return_url": self._url("/account#billing")}
        )
        return str(session.url)

    def cancel_now(self, account: Account) -> bool:
        """Cancel the account's live subscription at once, because the account is being deleted: no
        further charge (https://docs.stripe.com/api/subscriptions/cancel). True when one was cancelled."""
        if not self.has_live_subscription(account):
            return False
        self.client().v1.subscriptions.cancel(account.subscription.subscription_id)
        log.info("account %s: subscription cancelled (account deleted)", account.id)
        return True

    def has_live_subscription(self, account: Account) -> bool:
        return bool(account.subscription.subscription_id) and account.subscription.status in LIVE

    def refresh(self, account_id: str, customer_id: str, now: datetime) -> Account | None:
        """Copy the customer's current subscription from Stripe onto its account; None when the account
        is gone. NotYoursError when the customer is not that account's."""
        if self.store.account_of(customer_id) != account_id:
            raise NotYoursError(f"customer {customer_id} is not account {account_id}'s")

        def copy(account: Account) -> None:
            # Read inside the update: a write that lost a race reads Stripe again, so no older read wins.
            listed = self.client().v1.subscriptions.list(
                params={"customer": customer_id, "status": "all", "limit": 100}
            )
            sub = current_of(list(listed.data))
            if sub is not None:
                price = sub["items"]["data"][0]["price"]["id"]
                apply_subscription(account, sub, plan_of_price(self.settings, price), now)

        if self.accounts.get(account_id) is None:
            return None
        return self.accounts.update(account_id, copy, retries=20)  # concurrent events of one account

    def _price(self, plan: str) -> str:
        price = price_ids(self.settings).get(plan)
        if not price:
            raise BillingNotConfiguredError(f"no Stripe price for plan {plan!r} (STRIPE_PRICE_IDS)")
        return price

    def _url(self, path: str) -> str:
        return self.settings.public_base_url.rstrip("/") + path
