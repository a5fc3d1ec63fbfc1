"""Service protection (per user: 6,000 requests per 5-minute window → 429 with Retry-After) and the
other timing settings, all changeable through PUT /_sandbox/limits. Windows and delays are divided by
the time scale, so `--time-scale 60` turns five minutes into five seconds."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from . import errors


@dataclass
class Limits:
    requests_per_window: int = 6000
    window_seconds: float = 300.0
    time_scale: float = 1.0
    webhook_delay_seconds: float = 0.0  # before the first attempt (async steps run shortly after the save)
    webhook_retry_delay_seconds: float = 1.0
    webhook_timeout_seconds: float = 60.0
    webhook_max_body_bytes: int = 256 * 1024
    webhook_max_depth: int = 8  # deeper chains are stopped like Dataverse's infinite-loop protection
    # A new alternate key's index is built in the background (Learn, "Define alternate keys"): how long it
    # stays Pending/InProgress (real builds take seconds to hours; 0 here unless a test asks), and whether
    # the build ends Failed.
    key_build_seconds: float = 0.0
    key_build_fails: bool = False
    # Lost deliveries on demand (to prove the connector's sweep): the next N, and/or a share of all, are
    # never sent. Dataverse retries an asynchronous webhook only after 502/503/504 (Learn, "Use webhooks"),
    # so a delivery made while the receiver was down is lost for good; these stand in for that.
    # Learn, "Use webhooks" / asynchronous service: asynchronous steps are not guaranteed to run in the
    # order of the changes; with webhook_shuffle_seconds > 0 each delivery waits a random time up to it and
    # deliveries of one row no longer queue behind each other.
    webhook_shuffle_seconds: float = 0.0
    # Learn, "Behavior of specialized update operations": an Update that sets statecode/statuscode together
    # with other columns runs as two operations, so post-operation Update steps fire twice.
    webhook_split_state_updates: bool = False
    webhook_drop_next: int = 0
    webhook_drop_rate: float = 0.0

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown limit {key!r}")
            setattr(self, key, type(getattr(self, key))(value))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def scaled(self, seconds: float) -> float:
        return seconds / max(self.time_scale, 1e-9)


@dataclass
class Throttle:
    limits: Limits
    clock: Callable[[], float] = time.monotonic
    _calls: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, user_id: str) -> int:
        """Count one request; raise 429 over the limit. Returns how many requests remain."""
        window = self.limits.scaled(self.limits.window_seconds)
        now = self.clock()
        with self._lock:
            calls = self._calls.setdefault(user_id, deque())
            while calls and calls[0] <= now - window:
                calls.popleft()
            if len(calls) >= self.limits.requests_per_window:
                retry_after = max(1, math.ceil(calls[0] + window - now))
                raise errors.too_many_requests(
                    self.limits.requests_per_window, int(self.limits.window_seconds), retry_after
                )
            calls.append(now)
            return self.limits.requests_per_window - len(calls)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
