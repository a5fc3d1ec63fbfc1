"""What the stand-in holds and how its objects change: customers, products, prices, Checkout and portal
sessions, subscriptions and their invoices, and the events each change emits.

Behaviour and its sources (https://docs.stripe.com unless a full address is given):
- a Checkout Session in subscription mode creates the Customer (when none was given) and the
  Subscription when the payer completes the page, then emits checkout.session.completed
  (/payments/checkout/how-checkout-works, /billing/subscriptions/build-subscriptions);
- `subscription_data[trial_end]` must be at least 48 hours away (/api/checkout/sessions/create and
  stripe-python's stripe/params/checkout/_session_create_params.py, subscription_data.trial_end: "Has to
  be at least 48 hours in the future"); a trial starts the subscription `trialing` with a 0.00 first
  invoice;
- automatic tax with an existing customer needs an address on it or `customer_update[address]=auto`
  (/tax/checkout: "set customer_update.address to auto"); tax id collection with an existing customer
  needs `customer_update[name]=auto` (/tax/checkout/tax-ids) — both from Stripe's guides, their exact
  error texts unverified;
- test cards (/testing): 4242424242424242 succeeds; 4000000000000341 attaches, then every charge fails;
  4000000000000002 is declined at once;
- a failed renewal leaves the invoice open and the subscription `past_due`, emitting
  invoice.payment_failed (/billing/subscriptions/overview#failed-payments); paying it (a new card in the
  portal) emits invoice.paid and the subscription becomes `active` again;
- cancelling ends the subscription at once (`canceled`, customer.subscription.deleted);
- a price's lookup_key is unique among active prices (/api/prices/create, lookup_key and
  transfer_lookup_key); a product id given on create must be new (resource_already_exists);
- Idempotency-Key: the same key answers the first result again; a different body under the same key is
  an idempotency_error (/api/idempotent_requests).
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import string
import threading
import time
from typing import Any

from local.sandbox.stripe import resources
from local.sandbox.stripe.webhooks import WebhookDispatcher

API_VERSION = "2025-03-31.basil"  # the first version with the period on subscription items (Stripe changelog)
TRIAL_END_MINIMUM = 48 * 3600
MONTH = (
    30 * 24 * 3600
)  # one "month" of the stand-in's billing periods (unverified: Stripe uses calendar months)
SESSION_LIFETIME = 24 * 3600  # /api/checkout/sessions/create expires_at: 24 hours by default
GOOD_CARD, FAILING_CARD, DECLINED_CARD = "4242424242424242", "4000000000000341", "4000000000000002"
ANSWER_LOG_LIMIT = 2000


class StripeError(Exception):
    """An answer in Stripe's error shape: {"error": {"type", "message", "code", "param"}}."""

    def __init__(
        self, status: int, message: str, code: str | None = None, param: str | None = None, kind: str = ""
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.kind = kind or ("card_error" if status == 402 else "invalid_request_error")

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.kind}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(kind: str, id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{id}'", "resource_missing", param)


def new_id(prefix: str, length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


class StripeState:
    def __init__(self, webhook_url: str | None = None, webhook_secret: str = "") -> None:
        self.lock = threading.RLock()
        self.base_url = ""
        self.clock_offset = 0
        self.customers: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.session_params: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, str] = {}  # customer id -> the card number on file
        self.events: list[dict[str, Any]] = []
        self.answered: list[tuple[str, dict[str, Any]]] = []  # (object kind, object) for shape checks
        self.idempotency: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self.webhooks = WebhookDispatcher(webhook_url, webhook_secret)

    # ---- time, events, answers ----------------------------------------------------------------
    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def emit(self, type: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = resources.event(new_id("evt_"), self.now(), type, copy.deepcopy(obj), API_VERSION)
        self.events.append(event)
        self.record(event)
        self.webhooks.publish(event)
        return event

    def record(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Remember an answered object (and an event's object) for the fixture-shape test."""
        self.answered.append((str(obj.get("object")), copy.deepcopy(obj)))
        if obj.get("object") == "event":
            inner = obj["data"]["object"]
            self.answered.append((str(inner.get("object")), copy.deepcopy(inner)))
        del self.answered[:-ANSWER_LOG_LIMIT]
        return obj

    def replay(self, key: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        seen = self.idempotency.get(key)
        if seen is None:
            return None
        if seen[0] != _digest(params):
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first "
                "used with.",
                kind="idempotency_error",
            )
        return seen[1], seen[2]

    def remember(self, key: str, params: dict[str, Any], status: int, body: dict[str, Any]) -> None:
        self.idempotency[key] = (_digest(params), status, body)

    # ---- customers, products, prices ---------------------------------------------------------
    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = new_id("cus_", 14)
        self.customers[cid] = resources.customer(
            cid,
            self.now(),
            params.get("email"),
            params.get("name"),
            _metadata(params),
            secrets.token_hex(4).upper(),
        )
        if params.get("address"):
            self.customers[cid]["address"] = resources.address(params["address"])
        return self.customers[cid]

    def customer(self, cid: str, param: str = "id") -> dict[str, Any]:
        if cid not in self.customers:
            raise missing("customer", cid, param)
        return self.customers[cid]

    def update_customer(self, cid: str, params: dict[str, Any]) -> dict[str, Any]:
        found = self.customer(cid)
        for field in ("email", "name"):
            if field in params:
                found[field] = params[field] or None
        if "metadata" in params:
            found["metadata"] = {**found["metadata"], **_metadata(params)}
        if "address" in params:
            found["address"] = resources.address(params["address"])
        return found

    def create_product(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("name"):
            raise StripeError(400, "Missing required param: name.", "parameter_missing", "name")
        pid = params.get("id") or new_id("prod_", 14)
        if pid in self.products:
            raise StripeError(400, f"Product already exists: {pid}", "resource_already_exists", "id")
        self.products[pid] = resources.product(
            pid, self.now(), params["name"], params.get("description"), _metadata(params)
        )
        return self.products[pid]

    def product(self, pid: str) -> dict[str, Any]:
        if pid not in self.products:
            raise missing("product", pid)
        return self.products[pid]

    def create_price(self, params: dict[str, Any]) -> dict[str, Any]:
        for name in ("currency", "product", "unit_amount"):
            if not params.get(name):
                raise StripeError(400, f"Missing required param: {name}.", "parameter_missing", name)
        product = self.product(params["product"])
        recurring = params.get("recurring") or {}
        if recurring.get("interval") not in ("day", "week", "month", "year"):
            raise StripeError(
                400, "Invalid recurring[interval].", "parameter_invalid_empty", "recurring[interval]"
            )
        lookup_key = params.get("lookup_key")
        taken = [
            p for p in self.prices.values() if lookup_key and p["lookup_key"] == lookup_key and p["active"]
        ]
        if taken and str(params.get("transfer_lookup_key")) != "true":
            raise StripeError(
                400,
                f"A price ({taken[0]['id']}) already uses that lookup key.",
                "lookup_key_exists",
                "lookup_key",
            )
        for old in taken:
            old["lookup_key"] = None
        pid = new_id("price_")
        self.prices[pid] = resources.price(
            pid,
            self.now(),
            product["id"],
            str(params["currency"]).lower(),
            int(params["unit_amount"]),
            recurring["interval"],
            lookup_key,
            _metadata(params),
            params.get("tax_behavior", "unspecified"),
        )
        if product["default_price"] is None:
            product["default_price"] = pid
        return self.prices[pid]

    def price(self, pid: str, param: str = "id") -> dict[str, Any]:
        if pid not in self.prices:
            raise missing("price", pid, param)
        return self.prices[pid]

    def list_prices(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        keys = params.get("lookup_keys")
        found = list(self.prices.values())
        if keys is not None:
            found = [p for p in found if p["lookup_key"] in (keys if isinstance(keys, list) else [keys])]
        if "active" in params:
            found = [p for p in found if p["active"] == (str(params["active"]) == "true")]
        if params.get("product"):
            found = [p for p in found if p["product"] == params["product"]]
        return found

    # ---- Checkout -------------------------------------------------------------------------------
    def create_checkout_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") != "subscription":
            raise StripeError(
                400, "The stand-in supports mode=subscription only.", "parameter_invalid", "mode"
            )
        if not params.get("success_url"):
            raise StripeError(400, "Missing required param: success_url.", "parameter_missing", "success_url")
        items = params.get("line_items")
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise StripeError(400, "Give exactly one line item.", "parameter_invalid", "line_items")
        price = self.price(str(items[0].get("price", "")), "line_items[0][price]")
        customer = self.customer(params["customer"], "customer") if params.get("customer") else None
        if customer and params.get("customer_email"):
            raise StripeError(400, "You may only specify one of these parameters: customer, customer_email.")
        data = params.get("subscription_data") or {}
        trial_end = int(data["trial_end"]) if data.get("trial_end") else None
        if trial_end is not None and trial_end < self.now() + TRIAL_END_MINIMUM:
            raise StripeError(
                400,
                "subscription_data[trial_end] must be at least 48 hours in the future.",
                "parameter_invalid_integer",
                "subscription_data[trial_end]",
            )
        automatic_tax = str((params.get("automatic_tax") or {}).get("enabled")) == "true"
        address_auto = (params.get("customer_update") or {}).get("address") == "auto"
        if automatic_tax and customer and not customer["address"]["country"] and not address_auto:
            raise StripeError(
                400,
                "Automatic tax calculation in Checkout requires a valid address on the Customer. Set "
                "`customer_update[address]` to 'auto' to save the address entered in Checkout to the "
                "Customer.",
                param="customer_update[address]",
            )
        tax_ids = str((params.get("tax_id_collection") or {}).get("enabled")) == "true"
        if tax_ids and customer and (params.get("customer_update") or {}).get("name") != "auto":
            raise StripeError(
                400,
                "tax_id_collection requires updating business name on the customer. To enable tax id "
                "collection for an existing customer, please set `customer_update[name]` to `auto`.",
                param="customer_update[name]",
            )
        sid = new_id("cs_test_", 58)
        stored = {
            **params,
            "automatic_tax": automatic_tax,
            "currency": price["currency"],
            "metadata": _metadata(params),
            "price": price["id"],
            "trial_end": trial_end,
            "trial_period_days": int(data["trial_period_days"]) if data.get("trial_period_days") else None,
            "subscription_metadata": _metadata(data),
        }
        self.session_params[sid] = stored
        self.sessions[sid] = resources.checkout_session(
            sid,
            self.now(),
            self.now() + SESSION_LIFETIME,
            f"{self.base_url}/c/pay/{sid}",
            stored,
            customer,
        )
        return self.sessions[sid]

    def session(self, sid: str) -> dict[str, Any]:
        if sid not in self.sessions:
            raise missing("checkout.session", sid)
        return self.sessions[sid]

    def complete_checkout(self, sid: str, card: str, email: str, country: str, postal_code: str) -> str:
        """The payer submitted the hosted page: returns where the browser goes next."""
        session = self.session(sid)
        if session["status"] != "open":
            raise StripeError(400, f"This Checkout Session is {session['status']}.")
        if card == DECLINED_CARD:
            raise StripeError(402, "Your card was declined.", "card_declined", kind="card_error")
        if card not in (GOOD_CARD, FAILING_CARD):
            raise StripeError(402, "Your card number is incorrect.", "incorrect_number", kind="card_error")
        params = self.session_params[sid]
        if card == FAILING_CARD and not self._trial(params):  # the first charge is now, and it fails
            raise StripeError(402, "Your card was declined.", "card_declined", kind="card_error")
        if session["customer"]:
            customer = self.customer(session["customer"])
        else:
            customer = self.create_customer({"email": session["customer_email"] or email})
        if country:
            customer["address"] = resources.address({"country": country.upper(), "postal_code": postal_code})
        self.cards[customer["id"]] = card
        trial = self._trial(params)
        sub = self._new_subscription(customer, self.price(params["price"]), trial, params)
        session.update(
            status="complete",
            payment_status="no_payment_required" if trial else "paid",
            customer=customer["id"],
            customer_details=resources.customer_details(customer),
            subscription=sub["id"],
            amount_subtotal=0 if trial else self.price(params["price"])["unit_amount"],
            amount_total=0 if trial else self.price(params["price"])["unit_amount"],
        )
        self.emit("checkout.session.completed", session)
        return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", sid)

    def _trial(self, params: dict[str, Any]) -> tuple[int, int] | None:
        if params["trial_end"]:
            return self.now(), params["trial_end"]
        if params["trial_period_days"]:
            return self.now(), self.now() + params["trial_period_days"] * 24 * 3600
        return None

    # ---- subscriptions and their invoices ----------------------------------------------------
    def _new_subscription(
        self,
        customer: dict[str, Any],
        price: dict[str, Any],
        trial: tuple[int, int] | None,
        params: dict[str, Any],
    ) -> dict[str, Any]:
        sub_id, now = new_id("sub_"), self.now()
        period = trial or (now, now + MONTH)
        item = resources.subscription_item(new_id("si_", 14), now, sub_id, price, period)
        sub = resources.subscription(
            sub_id,
            now,
            customer["id"],
            item,
            "trialing" if trial else "active",
            trial,
            params["subscription_metadata"],
            params["automatic_tax"],
        )
        self.subscriptions[sub_id] = sub
        invoice = self._invoice(sub, 0 if trial else price["unit_amount"], "subscription_create")
        self._mark_paid(invoice)
        self.emit("customer.subscription.created", sub)
        self.emit("invoice.paid", invoice)
        return sub

    def subscription(self, sub_id: str) -> dict[str, Any]:
        if sub_id not in self.subscriptions:
            raise missing("subscription", sub_id)
        return self.subscriptions[sub_id]

    def list_subscriptions(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        found = list(self.subscriptions.values())
        if params.get("customer"):
            found = [s for s in found if s["customer"] == params["customer"]]
        status = params.get("status")
        if status and status != "all":
            found = [s for s in found if s["status"] == status]
        elif not status:
            found = [s for s in found if s["status"] != "canceled"]  # the default hides canceled ones
        return found

    def update_subscription(self, sub_id: str, params: dict[str, Any]) -> dict[str, Any]:
        sub = self.subscription(sub_id)
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                400, "A canceled subscription can only update its cancellation_details and metadata."
            )
        item = sub["items"]["data"][0]
        for change in params.get("items") or []:
            if change.get("id") != item["id"]:
                raise missing("subscription_item", str(change.get("id")), "items[0][id]")
            if change.get("price"):
                price = self.price(change["price"], "items[0][price]")
                item["price"], item["plan"] = dict(price), resources.plan_of(price)
        if "metadata" in params:
            sub["metadata"] = {**sub["metadata"], **_metadata(params)}
        if "cancel_at_period_end" in params:
            sub["cancel_at_period_end"] = str(params["cancel_at_period_end"]) == "true"
            sub["cancel_at"] = item["current_period_end"] if sub["cancel_at_period_end"] else None
        self.emit("customer.subscription.updated", sub)
        return sub

    def cancel_subscription(self, sub_id: str) -> dict[str, Any]:
        sub = self.subscription(sub_id)
        if sub["status"] == "canceled":
            raise StripeError(400, f"No such subscription: '{sub_id}'", "resource_missing", "id")
        now = self.now()
        sub.update(status="canceled", canceled_at=now, ended_at=now)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        self.emit("customer.subscription.deleted", sub)
        return sub

    def renew(self, sub_id: str) -> dict[str, Any]:
        """The billing period (or the trial) ended: a new period, its invoice, and the charge."""
        sub = self.subscription(sub_id)
        if sub["status"] == "canceled":
            raise StripeError(400, "The subscription is canceled.")
        item = sub["items"]["data"][0]
        start = item["current_period_end"]
        item.update(current_period_start=start, current_period_end=start + MONTH)
        sub["billing_cycle_anchor"] = start
        invoice = self._invoice(sub, item["price"]["unit_amount"], "subscription_cycle")
        self._charge(sub, invoice)
        return invoice

    def pay_open_invoices(self, customer_id: str) -> None:
        for invoice in list(self.invoices.values()):
            if invoice["customer"] == customer_id and invoice["status"] == "open":
                self._charge(self.subscription(invoice["subscription"]), invoice)

    def _charge(self, sub: dict[str, Any], invoice: dict[str, Any]) -> None:
        invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
        if self.cards.get(sub["customer"]) == GOOD_CARD:
            self._mark_paid(invoice)
            sub["status"] = "active"
            self.emit("invoice.paid", invoice)
        else:
            sub["status"] = "past_due"
            invoice["next_payment_attempt"] = self.now() + 3 * 24 * 3600
            self.emit("invoice.payment_failed", invoice)
        self.emit("customer.subscription.updated", sub)

    def _invoice(self, sub: dict[str, Any], amount: int, reason: str) -> dict[str, Any]:
        customer = self.customer(sub["customer"])
        iid = new_id("in_")
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        invoice = resources.invoice(
            iid, self.now(), customer, sub, amount, reason, number, f"{self.base_url}/i/{iid}"
        )
        self.invoices[iid] = invoice
        sub["latest_invoice"] = iid
        return invoice

    def _mark_paid(self, invoice: dict[str, Any]) -> None:
        invoice.update(
            status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, next_payment_attempt=None
        )
        invoice["status_transitions"]["paid_at"] = self.now()

    # ---- Billing portal ----------------------------------------------------------------------
    def create_portal_session(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = self.customer(str(params.get("customer", "")), "customer")
        bid = new_id("bps_")
        self.portal_sessions[bid] = resources.portal_session(
            bid, self.now(), customer["id"], params.get("return_url"), f"{self.base_url}/p/session/{bid}"
        )
        return self.portal_sessions[bid]

    def portal_session(self, bid: str) -> dict[str, Any]:
        if bid not in self.portal_sessions:
            raise missing("billing_portal.session", bid)
        return self.portal_sessions[bid]

    def portal_update_card(self, bid: str, card: str) -> None:
        customer_id = self.portal_session(bid)["customer"]
        if card not in (GOOD_CARD, FAILING_CARD):
            raise StripeError(402, "Your card was declined.", "card_declined", kind="card_error")
        self.cards[customer_id] = card
        self.pay_open_invoices(customer_id)


def _metadata(params: dict[str, Any]) -> dict[str, str]:
    value = params.get("metadata") or {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _digest(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
