"""Xero's rate limits: per app+organisation 60 calls a minute, 5,000 a day and 5 at once; per app
10,000 a minute across organisations (developer.xero.com/faq/limits: "the number of API calls that your
application can make against a particular tenant" — so every instance and every connection of one app
to one organisation spends the same minute: the key is (client id, tenant), not the token). Every answer
carries X-MinLimit-Remaining, X-DayLimit-Remaining and X-AppMinLimit-Remaining (same page); a refusal is
429 with X-Rate-Limit-Problem naming the limit (Xero's reply in XeroAPI/xero-node#634) and Retry-After
in seconds (XeroAPI/Xero-NetStandard#408 reads both from the 429). Windows are rolling (Xero's wording
in XeroAPI/xero-node#262: "60 calls in a rolling 60 second window", "a rolling 24 hour window") and
measured on the sandbox clock; refused calls do not count against the windows (unverified: the stricter
choice would count them, but then a client waiting out Retry-After could never catch up, which is not
what Xero's guidance to wait and retry implies). A "concurrent" refusal says Retry-After 1 (unverified:
no source gives its value; a call in progress ends within seconds). Admitted and refused calls are
counted per organisation (GET /_sandbox/limits) so a benchmark can read how much of the ceiling it
used and how many 429s it got."""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict, deque
from dataclasses import asdict, dataclass, field
from typing import Any

from local.sandbox.xero.clock import SandboxClock

MINUTE = 60.0
DAY = 24 * 3600.0


@dataclass
class LimitSettings:
    enabled: bool = True
    minute: int = 60
    day: int = 5000
    concurrent: int = 5
    app_minute: int = 10000

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Admission:
    allowed: bool
    headers: dict[str, str]
    problem: str = ""  # value of X-Rate-Limit-Problem when refused
    retry_after: int = 0  # real seconds


@dataclass
class RateLimiter:
    clock: SandboxClock
    settings: LimitSettings = field(default_factory=LimitSettings)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _minute: dict[tuple[str, str], deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _day: dict[tuple[str, str], deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _app: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _in_flight: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    _admitted: Counter[str] = field(default_factory=Counter)
    _refused: Counter[tuple[str, str]] = field(default_factory=Counter)

    def windows(self) -> tuple[dict[Any, deque[float]], ...]:
        """The calls each window still counts (minute, day, app minute), copied: what a restart keeps."""
        with self._lock:
            return tuple(
                {key: deque(times) for key, times in window.items()}
                for window in (self._minute, self._day, self._app)
            )

    def restore_windows(self, saved: tuple[dict[Any, deque[float]], ...]) -> None:
        minute, day, app = saved
        with self._lock:
            self._minute = defaultdict(deque, minute)
            self._day = defaultdict(deque, day)
            self._app = defaultdict(deque, app)

    def reset(self) -> None:
        with self._lock:
            self._minute.clear()
            self._day.clear()
            self._app.clear()
            self._admitted.clear()
            self._refused.clear()

    def count_refusal(self, tenant_id: str, problem: str) -> None:
        """A 429 answered for another reason than these limits (an injected fault) counts here too."""
        with self._lock:
            self._refused[(tenant_id, problem)] += 1

    def counts(self) -> dict[str, Any]:
        """{"admitted": {tenant: n}, "refused": {tenant: {problem: n}}} since the last reset."""
        with self._lock:
            refused: dict[str, dict[str, int]] = defaultdict(dict)
            for (tenant, problem), count in self._refused.items():
                refused[tenant][problem] = count
            return {"admitted": dict(self._admitted), "refused": dict(refused)}

    def enter(self, client_id: str, tenant_id: str) -> Admission:
        """Admit one call (remember to `leave`) or refuse it with the limit that was hit."""
        key = (client_id, tenant_id)
        with self._lock:
            now = self.clock.now()
            minute, day, app = self._minute[key], self._day[key], self._app[client_id]
            _trim(minute, now - MINUTE)
            _trim(day, now - DAY)
            _trim(app, now - MINUTE)
            s = self.settings
            refusal = self._refusal(key, minute, day, app, now) if s.enabled else None
            if refusal is None:
                minute.append(now)
                day.append(now)
                app.append(now)
                self._in_flight[key] += 1
                self._admitted[tenant_id] += 1
            else:
                self._refused[(tenant_id, refusal[0])] += 1
            # Xero puts what is left on every answer, refused ones too: X-MinLimit-Remaining,
            # X-DayLimit-Remaining, X-AppMinLimit-Remaining (developer.xero.com/documentation/guides/
            # oauth2/limits, "API rate limits"; FACTS.md). With limits off (a benchmark of something
            # else) there is no budget to report, so none is sent — unlike Xero, which always sends them.
            headers = (
                {
                    "X-MinLimit-Remaining": str(max(0, s.minute - len(minute))),
                    "X-DayLimit-Remaining": str(max(0, s.day - len(day))),
                    "X-AppMinLimit-Remaining": str(max(0, s.app_minute - len(app))),
                }
                if s.enabled
                else {}
            )
            if refusal is None:
                return Admission(True, headers)
            problem, wait = refusal
            retry = max(1, math.ceil(self.clock.to_real_seconds(wait)))
            headers.update({"Retry-After": str(retry), "X-Rate-Limit-Problem": problem})
            return Admission(False, headers, problem, retry)

    def _refusal(
        self, key: tuple[str, str], minute: deque[float], day: deque[float], app: deque[float], now: float
    ) -> tuple[str, float] | None:
        s = self.settings
        if self._in_flight[key] >= s.concurrent:
            return "concurrent", 1.0
        if len(day) >= s.day:
            return "day", day[len(day) - s.day] + DAY - now
        if len(minute) >= s.minute:
            return "minute", minute[len(minute) - s.minute] + MINUTE - now
        if len(app) >= s.app_minute:
            return "appminute", app[len(app) - s.app_minute] + MINUTE - now
        return None

    def leave(self, client_id: str, tenant_id: str) -> None:
        with self._lock:
            self._in_flight[(client_id, tenant_id)] -= 1


def _trim(window: deque[float], older_than: float) -> None:
    while window and window[0] <= older_than:
        window.popleft()
