"""Throttling failed sign-ins: per account (stored on the account, so every worker sees it) and per client
IP (in this process only: a second guard against one address trying many accounts)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.store.models import Account, utc_now

ACCOUNT_FAILURE_LIMIT = 5
ACCOUNT_WINDOW = timedelta(minutes=15)
ACCOUNT_LOCKOUT = timedelta(minutes=15)
IP_FAILURE_LIMIT = 20
IP_WINDOW = timedelta(minutes=15)


def failures_are_recent(account: Account, now: datetime) -> bool:
    last = account.last_failed_sign_in_at
    return last is not None and now - last < ACCOUNT_WINDOW


def account_locked_for(account: Account, now: datetime) -> timedelta | None:
    """How long the account still refuses sign-ins, or None when it accepts them.

    Failures count while each comes within the window of the one before; the lockout runs from the
    last failure, so hammering a locked account keeps it locked."""
    last = account.last_failed_sign_in_at
    if account.failed_sign_ins < ACCOUNT_FAILURE_LIMIT or last is None:
        return None
    remaining = last + ACCOUNT_LOCKOUT - now
    return remaining if remaining > timedelta(0) else None


class SlidingWindow:
    """At most `limit` events per key within `window`; thread-safe, memory bounded by `max_keys`."""

    def __init__(
        self,
        limit: int = IP_FAILURE_LIMIT,
        window: timedelta = IP_WINDOW,
        clock: Callable[[], datetime] = utc_now,
        max_keys: int = 10_000,
    ) -> None:
        self.limit, self.window, self._clock, self._max_keys = limit, window, clock, max_keys
        self._events: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def record(self, key: str) -> None:
        with self._lock:
            if key not in self._events and len(self._events) >= self._max_keys:
                self._events.pop(next(iter(self._events)))  # forget the oldest key, not the newest
            self._events.setdefault(key, deque()).append(self._clock())

    def blocked_for(self, key: str) -> timedelta | None:
        """How long until `key` may try again, or None when it may try now."""
        now = self._clock()
        with self._lock:
            events = self._events.get(key)
            if not events:
                return None
            while events and now - events[0] >= self.window:
                events.popleft()
            if len(events) < self.limit:
                return None
            return events[0] + self.window - now

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


def minutes_text(delay: timedelta) -> str:
    minutes = max(1, int((delay.total_seconds() + 59) // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
