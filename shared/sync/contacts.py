"""The Xero contact for an invoice's customer: by the ContactID stored on the Dynamics customer, else
created (idempotently) — and never a second contact with the same name: when Xero says the name is taken,
the existing active contact of that name is used."""

from __future__ import annotations

import threading
from collections import OrderedDict
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


class _Learned:
    """Contact ids learned in this worker, so a retry after a deferral does not spend a Xero call again
    before the id is written onto the Dynamics customer."""

    def __init__(self, size: int = 10_000) -> None:
        self._ids: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            return self._ids.get(key)

    def put(self, key: tuple[str, str], contact_id: str) -> str:
        with self._lock:
            self._ids[key] = contact_id
            self._ids.move_to_end(key)
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)
        return contact_id


_learned = _Learned()


def resolve_contact(
    plan: ContactPlan, settings: SyncSettings, xero: XeroAccounting, connection_id: str
) -> ContactChoice:
    if plan.xero_contact_id:
        return ContactChoice(plan.xero_contact_id, learned=False)
    key = (connection_id, plan.customer_id)
    with _lock_for(f"{connection_id}/{plan.customer_id}"):  # two invoices of a new customer at once
        known = _learned.get(key)
        if known:
            return ContactChoice(known, learned=True)
        choice = _create_or_match(plan, settings, xero, connection_id)
        _learned.put(key, choice.contact_id)
        return choice


def _create_or_match(
    plan: ContactPlan, settings: SyncSettings, xero: XeroAccounting, connection_id: str
) -> ContactChoice:
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
