"""What the push needs to know about a Xero organisation and its contacts beyond the invoice itself: the
organisation's ShortCode (deep links that open the right organisation) and the sales payment terms (a due
date when Dynamics has none). Read once and kept per worker, so a steady stream of invoices costs no call."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from shared.xero.accounting import XeroAccounting

DEFAULT_TTL_SECONDS = 3600.0


class OrganisationBook:
    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        size: int = 10_000,
    ) -> None:
        self._ttl, self._clock, self._size = ttl, clock, size
        self._kept: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def organisation(self, xero: XeroAccounting, tenant_id: str) -> dict[str, Any]:
        return self._read((tenant_id, ""), lambda: (xero.get("Organisation").get("Organisations") or [{}])[0])

    def contact(self, xero: XeroAccounting, tenant_id: str, contact_id: str) -> dict[str, Any]:
        return self._read(
            (tenant_id, contact_id), lambda: (xero.get(f"Contacts/{contact_id}").get("Contacts") or [{}])[0]
        )

    def remember_contacts(self, tenant_id: str, contacts: list[dict[str, Any]]) -> None:
        """Contacts read or written in bulk (the backfill's batches): their terms then cost no GET."""
        with self._lock:
            for contact in contacts:
                if contact.get("ContactID"):
                    self._keep((tenant_id, str(contact["ContactID"])), contact)

    def known_contact(self, tenant_id: str, contact_id: str) -> bool:
        with self._lock:
            found = self._kept.get((tenant_id, contact_id))
            return found is not None and self._clock() - found[0] <= self._ttl

    def sales_terms(self, xero: XeroAccounting, tenant_id: str, contact_id: str) -> dict[str, Any] | None:
        """The contact's sales payment terms, else the organisation's, else None (Xero's PaymentTerm:
        {"Sales": {"Day": n, "Type": PaymentTermType}} on Contact and on Organisation)."""
        for record in (self.contact(xero, tenant_id, contact_id), self.organisation(xero, tenant_id)):
            sales = (record.get("PaymentTerms") or {}).get("Sales") or {}
            if sales.get("Type") and isinstance(sales.get("Day"), int | float):
                return dict(sales)
        return None

    def _read(self, key: tuple[str, str], load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            found = self._kept.get(key)
            if found and self._clock() - found[0] <= self._ttl:
                return found[1]
        value = load()
        with self._lock:
            self._keep(key, value)
        return value

    def _keep(self, key: tuple[str, str], value: dict[str, Any]) -> None:
        self._kept[key] = (self._clock(), value)
        self._kept.move_to_end(key)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)


BOOK = OrganisationBook()
