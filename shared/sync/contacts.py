"""The Xero contact for an invoice's customer: by the ContactID stored on the Dynamics customer, else
created (idempotently) — and never a second contact for a customer Xero already knows: when Xero refuses
the create because the name or the contact number is taken, that existing active contact is used.

A refused Contact says so with `HasValidationErrors: true` and a zero ContactID, not `HasErrors`
(xero_accounting.yaml, PUT /Contacts duplicate-name example): WriteResult.ok reads both, and a zero id is
never taken for an answer."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from shared.errors import FatalError
from shared.store.sync_settings import SyncSettings
from shared.sync.idempotency import idempotency_key, payload_digest
from shared.sync.mapping_contact import ContactPlan
from shared.xero.accounting import ZERO_ID, XeroAccounting, XeroValidationError

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
            raise FatalError(not_in_xero_message(plan))
        return ContactChoice(found, learned=True)
    # The key follows what is sent: after a refusal (a bad e-mail, say) the corrected customer is a new
    # request, not a replay of the refusal Xero remembers for the old key.
    key = idempotency_key(connection_id, plan.customer_id, payload_digest(plan.payload), "contact")
    result = xero.write("PUT", "Contacts", "Contacts", [plan.payload], key)[0]
    contact_id = str(result.element.get("ContactID") or "")
    if result.ok and contact_id and contact_id != ZERO_ID:
        return ContactChoice(contact_id, learned=True)
    # Refused: most often because the customer is already in Xero (an earlier import, typed by hand).
    # Xero refuses a second active contact with the same name (spec example above), whatever its case,
    # and, unverified, the same ContactNumber: reuse that contact. A `where` with == compares case and
    # all, so the name is compared lowered (calcinai/xero-php#416, freakboy3742/pyxero#172).
    found = existing_contact(plan, xero)
    if found is not None:
        return ContactChoice(found, learned=True)
    raise XeroValidationError(result.errors or ["Xero refused to create the contact"])


def existing_contact(plan: ContactPlan, xero: XeroAccounting) -> str | None:
    """The active Xero contact with the customer's ContactNumber, else its name (any case)."""
    for where in (
        f'ContactNumber=="{_quoted(plan.payload["ContactNumber"])}"',
        f'Name.ToLower()=="{_quoted(plan.payload["Name"].lower())}"',
    ):
        found = _find(xero, where)
        if found is not None:
            return found
    return None


def not_in_xero_message(plan: ContactPlan) -> str:
    return (
        f"the customer {plan.payload['Name']} is not in Xero and creating contacts is off "
        f"— fix: create it in Xero with contact number {plan.payload['ContactNumber']}, "
        'or switch on "create missing contacts" in the connector'
    )


def _find(xero: XeroAccounting, where: str) -> str | None:
    contacts: list[dict[str, Any]] = xero.get("Contacts", {"where": where}).get("Contacts", [])
    active = [
        c
        for c in contacts
        if c.get("ContactStatus", "ACTIVE") == "ACTIVE" and c.get("ContactID") not in (None, "", ZERO_ID)
    ]
    return str(active[0]["ContactID"]) if active else None


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _lock_for(key: str) -> threading.Lock:
    return _LOCKS[hash(key) % len(_LOCKS)]
