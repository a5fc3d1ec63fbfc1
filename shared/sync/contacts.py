"""The Xero contact for an invoice's customer: by the ContactID stored on the Dynamics customer, else
created (idempotently) — and never a second contact with the same name: when Xero says the name is taken,
the existing active contact of that name is used."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from shared.errors import FatalError
from shared.sync.idempotency import idempotency_key
from shared.sync.mapping_contact import ContactPlan
from shared.sync.settings import SyncSettings
from shared.xero.accounting import XeroAccounting, XeroValidationError

_NAME_TAKEN = "already assigned to another contact"
# Striped locks: bounded memory however many customers a worker sees.
_LOCKS = tuple(threading.Lock() for _ in range(64))


@dataclass(frozen=True)
class ContactChoice:
    contact_id: str
    learned: bool  # True when the id is new to Dynamics and should be written onto the customer


def resolve_contact(
    plan: ContactPlan, settings: SyncSettings, xero: XeroAccounting, connection_id: str
) -> ContactChoice:
    if plan.xero_contact_id:
        return ContactChoice(plan.xero_contact_id, learned=False)
    with _lock_for(f"{connection_id}/{plan.customer_id}"):  # two invoices of a new customer at once
        if not settings.create_missing_contacts:
            found = _find(xero, f'ContactNumber=="{_quoted(plan.payload["ContactNumber"])}"')
            if found is None:
                raise FatalError(
                    f"the customer {plan.payload['Name']} is not in Xero and creating contacts is off "
                    f"— fix: create it in Xero with contact number {plan.payload['ContactNumber']}, "
                    'or switch on "create missing contacts" in the connector'
                )
            return ContactChoice(found, learned=True)
        key = idempotency_key(connection_id, plan.customer_id, 1, "contact")
        result = xero.write("PUT", "Contacts", "Contacts", [plan.payload], key)[0]
        if result.ok:
            return ContactChoice(str(result.element["ContactID"]), learned=True)
        if any(_NAME_TAKEN in message for message in result.errors):
            found = _find(xero, f'Name=="{_quoted(plan.payload["Name"])}"')
            if found is not None:
                return ContactChoice(found, learned=True)
        raise XeroValidationError(result.errors)


def _find(xero: XeroAccounting, where: str) -> str | None:
    contacts: list[dict[str, Any]] = xero.get("Contacts", {"where": where}).get("Contacts", [])
    active = [c for c in contacts if c.get("ContactStatus", "ACTIVE") == "ACTIVE"]
    return str(active[0]["ContactID"]) if active else None


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _lock_for(key: str) -> threading.Lock:
    return _LOCKS[hash(key) % len(_LOCKS)]
