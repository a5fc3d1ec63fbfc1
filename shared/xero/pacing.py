"""Staying inside Xero's limits per organisation: at most 5 calls in flight (Xero's concurrency limit)
and no call once the minute budget is known to be spent — the caller defers the work instead of
collecting a 429. Per worker process; across instances Xero's 429 + Retry-After still protects us."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from shared.errors import RetriableError

MAX_IN_FLIGHT = 5
MINUTE = 60.0
# Keep a few calls of the minute budget for the other workers of the same organisation.
RESERVE = 2


@dataclass
class _Budget:
    remaining: int
    renews_at: float  # by then a rolling minute has passed since we saw `remaining`


class RateGate:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        max_in_flight: int = MAX_IN_FLIGHT,
        minute: float = MINUTE,
    ) -> None:
        self._clock = clock
        self._max = max_in_flight
        self.minute = minute  # Xero's rate window; shorter only against a sandbox on a fast clock
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._budgets: dict[str, _Budget] = {}

    def observe(self, tenant_id: str, headers: Mapping[str, str]) -> None:
        remaining = headers.get("X-MinLimit-Remaining")
        if remaining is not None and remaining.strip().lstrip("-").isdigit():
            with self._lock:
                self._budgets[tenant_id] = _Budget(int(remaining), self._clock() + self.minute)

    def before_call(self, tenant_id: str) -> None:
        """Raise RetriableError (defer) when this organisation's minute budget is spent."""
        with self._lock:
            budget = self._budgets.get(tenant_id)
        if budget is None:
            return
        wait = budget.renews_at - self._clock()
        if wait > 0 and budget.remaining <= RESERVE:
            raise RetriableError(
                "Xero's per-minute limit for this organisation is nearly used up", retry_after=wait
            )

    @contextmanager
    def slot(self, tenant_id: str) -> Iterator[None]:
        with self._lock:
            semaphore = self._slots.setdefault(tenant_id, threading.BoundedSemaphore(self._max))
        with semaphore:
            yield
