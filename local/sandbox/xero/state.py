"""Everything the sandbox remembers, with Python methods tests use to look at and change it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from local.sandbox.common import FaultSettings, RequestCounter
from local.sandbox.xero import seed_data
from local.sandbox.xero.clock import SandboxClock
from local.sandbox.xero.history import seed_history
from local.sandbox.xero.identity_state import DEFAULT_CLIENT_ID, IdentityStore
from local.sandbox.xero.limits import RateLimiter
from local.sandbox.xero.orgs import COLLECTION_KEYS, Org
from local.sandbox.xero.webhooks import WebhookDispatcher
from local.sandbox.xero.wire import money, render

IDEMPOTENCY_LIFE = 24 * 3600.0
PROFILES = {
    "demo": seed_data.DEMO_PROFILES,
    "realistic": seed_data.REALISTIC_PROFILES,
    # the demo organisations, the NZ one with years of history (local/sandbox/xero/history.py):
    # what `make run` and the push benchmark meet; the tests choose "demo" for an empty organisation
    "established": seed_data.DEMO_PROFILES,
}
WITH_HISTORY = {"established": "Demo Company (NZ)"}
DEFAULT_SCOPES = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.invoices",
    "accounting.contacts",
    "accounting.settings",
    "accounting.payments.read",
]


@dataclass
class Replay:
    expires: float
    status: int
    body: bytes
    content_type: str


class SandboxState:
    def __init__(self, time_scale: float = 1.0) -> None:
        self.clock = SandboxClock(time_scale)
        self.lock = threading.RLock()  # one lock for all records: writes are short, clarity wins
        self.faults = FaultSettings()
        self.requests = RequestCounter()
        self.webhooks = WebhookDispatcher()
        self.base_url = ""
        self.reset()

    def reset(self) -> None:
        """Empty state: no organisations, the default app registered, limits on, faults off."""
        with self.lock:
            self.orgs: dict[str, Org] = {}
            self.identity = IdentityStore(self.clock)
            self.limiter = RateLimiter(self.clock)
            self.idempotency: dict[tuple[str, str, str, str], Replay] = {}
            rates = ("error_rate", "throttle_rate", "slow_rate", "lost_rate", "latency_ms")
            self.faults.update(dict.fromkeys(rates, 0.0))
            self.requests.reset()

    def seed(self, profile: str = "demo") -> list[Org]:
        if profile not in PROFILES:
            raise ValueError(f"unknown seed profile {profile!r}; use one of {sorted(PROFILES)}")
        with self.lock:
            created = [Org.from_profile(p, self.clock.now_dt()) for p in PROFILES[profile]]
            for org in created:
                self.orgs[org.tenant_id] = org
                if WITH_HISTORY.get(profile) == org.name:
                    seed_history(org, self.clock.now_dt())
                    approved = [i for i in org.invoices.values() if i["Status"] == "AUTHORISED"]
                    for invoice in approved[::3]:  # a third of them paid since
                        self.pay_invoice(org.tenant_id, invoice["InvoiceID"])
            return created

    # --- looking at records ------------------------------------------------------------------------
    def org(self, tenant: str) -> Org:
        """An organisation by tenant id or by name."""
        found = self.orgs.get(tenant) or next((o for o in self.orgs.values() if o.name == tenant), None)
        if found is None:
            raise KeyError(f"no organisation {tenant!r}")
        return found

    def records(self, tenant: str, collection: str) -> list[dict[str, Any]]:
        """Stored records as Xero would render them (dates as /Date(..)/)."""
        with self.lock:
            org = self.org(tenant)
            rendered = [render(r) for r in org.collection(collection)]
            if collection == "Invoices":
                for out, raw in zip(rendered, org.collection(collection), strict=True):
                    out["Contact"] = {
                        "ContactID": raw["_contact_id"],
                        "Name": org.contacts[raw["_contact_id"]]["Name"],
                    }
            return rendered

    def patch_record(
        self, tenant: str, collection: str, record_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Simulate a change made in Xero itself (archive a tax rate, rename an account or a contact)."""
        with self.lock:
            org = self.org(tenant)
            if collection not in COLLECTION_KEYS:
                raise KeyError(collection)
            record = org.find(collection, record_id)
            if record is None:
                raise KeyError(f"no {collection} record {record_id!r}")
            record.update(changes)
            if "UpdatedDateUTC" in record or collection in ("Invoices", "Contacts", "Items", "Accounts"):
                record["UpdatedDateUTC"] = self.clock.now_dt()
            category = {"Invoices": "INVOICE", "Contacts": "CONTACT"}.get(collection)
            if category:
                self.publish(org.tenant_id, [(category, "UPDATE", record_id)])
            return render(record)

    def pay_invoice(
        self, tenant: str, invoice_id: str, amount: Decimal | float | None = None
    ) -> dict[str, Any]:
        """Record a payment as if the customer paid in Xero; fires INVOICE UPDATE."""
        with self.lock:
            org = self.org(tenant)
            invoice = org.invoices.get(invoice_id)
            if invoice is None or invoice["Status"] != "AUTHORISED":
                raise ValueError("only an existing AUTHORISED invoice can be paid")
            paid = money(amount if amount is not None else invoice["AmountDue"])
            now = self.clock.now_dt()
            invoice["Payments"].append(
                {
                    "PaymentID": seed_data.stable_id(invoice_id, str(now.timestamp())),
                    "Date": now.date(),
                    "Amount": paid,
                    "Reference": "Sandbox payment",
                    "CurrencyRate": Decimal(1),
                    "HasAccount": False,
                    "HasValidationErrors": False,
                }
            )
            invoice["AmountPaid"] = invoice["AmountPaid"] + paid
            invoice["AmountDue"] = invoice["Total"] - invoice["AmountPaid"]
            if invoice["AmountDue"] <= 0:
                invoice.update(
                    {"Status": "PAID", "AmountDue": Decimal("0.00"), "FullyPaidOnDate": now.date()}
                )
            invoice["UpdatedDateUTC"] = now
            self.publish(org.tenant_id, [("INVOICE", "UPDATE", invoice_id)])
            return render(invoice)

    def issue_tokens(
        self,
        scopes: list[str] | None = None,
        tenants: list[str] | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
    ) -> dict[str, Any]:
        """Test shortcut for a finished consent: a token answer for the given orgs (default: all)."""
        tenant_ids = [self.org(t).tenant_id for t in tenants] if tenants else list(self.orgs)
        return self.identity.issue_tokens(client_id, scopes or DEFAULT_SCOPES, tenant_ids)

    def publish(self, tenant_id: str, events: list[tuple[str, str, str]]) -> None:
        now = self.clock.now_dt()
        for category, event_type, resource_id in events:
            self.webhooks.publish(self.base_url, tenant_id, category, event_type, resource_id, now)

    # --- idempotency ---------------------------------------------------------------------------------
    def replay(self, key: tuple[str, str, str, str]) -> Replay | None:
        with self.lock:
            found = self.idempotency.get(key)
            return found if found and found.expires > self.clock.now() else None

    def remember(self, key: tuple[str, str, str, str], status: int, body: bytes, content_type: str) -> None:
        with self.lock:
            self.idempotency[key] = Replay(self.clock.now() + IDEMPOTENCY_LIFE, status, body, content_type)
