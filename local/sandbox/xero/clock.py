"""The sandbox clock: runs `time_scale` times faster than real time, so a test can live through a token's
30 minutes, a rate-limit minute or a refresh grace period in a fraction of that."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class SandboxClock:
    def __init__(self, time_scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._scale = float(time_scale)
        self._real_anchor = time.time()
        self._sandbox_anchor = self._real_anchor

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> float:
        """Sandbox seconds since the epoch."""
        with self._lock:
            return self._sandbox_anchor + (time.time() - self._real_anchor) * self._scale

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def set_scale(self, time_scale: float) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        # Re-anchor so that sandbox time stays continuous when the speed changes.
        current = self.now()
        with self._lock:
            self._sandbox_anchor = current
            self._real_anchor = time.time()
            self._scale = float(time_scale)

    def advance(self, seconds: float) -> None:
        """Jump the sandbox clock forward (tests: 'thirty minutes later')."""
        with self._lock:
            self._sandbox_anchor += seconds

    def to_real_seconds(self, sandbox_seconds: float) -> float:
        return sandbox_seconds / self._scale
