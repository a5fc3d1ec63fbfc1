"""Xero items per organisation, cached per worker so a steady stream of invoices costs no item calls.

The catalog is loaded with one GET and refreshed when older than `ttl`; items the invoice needs that are
missing or different are written in ONE POST (create-or-update matched by Code, so two workers creating
the same item cannot make two). A stale cache can only cause an unneeded POST, never a duplicate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.sync.idempotency import payload_digest
from shared.sync.mapping_items import items_to_write
from shared.xero.accounting import XeroAccounting

DEFAULT_TTL_SECONDS = 600.0


@dataclass
class _Entry:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # code → Xero item
    loaded_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class ItemOutcome:
    known_codes: frozenset[str]  # codes Xero has: lines may carry them as ItemCode
    problems: list[str]  # items Xero refused (their lines go description-only)


class ItemCatalog:
    def __init__(self, ttl: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def ensure(
        self,
        tenant_id: str,
        xero: XeroAccounting,
        wanted: list[dict[str, Any]],
        may_write: bool,
        idempotency_key: str,
    ) -> ItemOutcome:
        if not wanted:
            return ItemOutcome(frozenset(), [])
        entry = self._entry(tenant_id)
        with entry.lock:  # one worker thread per organisation loads or writes items at a time
            if self._clock() - entry.loaded_at > self._ttl:
                # unitdp=4: without it Xero rounds unit prices to 2 places, and a 4-place Dynamics price
                # would differ on every reload and be written again (spec, parameter unitdp). Items are
                # not paged (GET /Items has no page parameter): one call reads them all.
                items = xero.get("Items", {"unitdp": 4}).get("Items", [])
                entry.items = {i["Code"]: i for i in items if i.get("Code")}
                entry.loaded_at = self._clock()
            writes = items_to_write(wanted, entry.items) if may_write else []
            problems: list[str] = []
            if writes:
                # The key follows what is sent and what it is sent over (each item's UpdatedDateUTC): a price
                # changed back to an earlier value is a new request, not a replay of a stale answer.
                before = [entry.items.get(w["Code"], {}).get("UpdatedDateUTC") for w in writes]
                key = f"{idempotency_key}-{payload_digest([writes, before])[:16]}"
                for result in xero.write("POST", "Items", "Items", writes, key):
                    code = str(result.element.get("Code", ""))
                    if result.ok and code:
                        entry.items[code] = result.element
                    else:
                        problems.append(f"item {code}: {'; '.join(result.errors)}")
            folded = {code.casefold() for code in entry.items}
            known = frozenset(w["Code"] for w in wanted if w["Code"].casefold() in folded)
            return ItemOutcome(known, problems)

    def _entry(self, tenant_id: str) -> _Entry:
        with self._lock:
            return self._entries.setdefault(tenant_id, _Entry())
