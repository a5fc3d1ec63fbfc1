"""One Xero organisation's budget shared by every instance: a ledger of the calls granted in the rolling
minute and day, kept in one row per organisation (shared/store/xero_budget.py) and taken by the calling
instance as its call starts, several calls at a time when several are about to start.

Xero's limits are per app and organisation, whichever instance calls: 60 calls in a rolling minute,
5,000 in a rolling day, 5 in progress at once (developer.xero.com/faq/limits; Xero's answer in
XeroAPI/xero-node#634 names the same limits and the X-Rate-Limit-Problem header of the 429). Each
instance pacing alone only learns of the others from X-MinLimit-Remaining after the fact: measured with
bench/burst.py, 1, 3 and 6 host processes got 0, 23 and 69 429s for one organisation's burst.

Why a ledger row, not the alternatives (bench/burst.py, 600 invoices for A at time scale 3):
- a lease ("this instance owns organisation X's minute for N s") costs one table call per lease, but
  every message of X that lands on another instance must go back to the queue until it lands on the
  owner: with 6 instances 5 in 6 of them do, each a queue round trip (whole seconds), so a steady
  organisation's push waits seconds that it does not wait alone — B's p95 would not stay within 2x idle;
- a queue or session per organisation needs Service Bus sessions (Storage queues have none), a second
  messaging service to run and pay for, for the one problem a row solves;
- the ledger lets any instance push any organisation's invoice the moment it has a call. Measured with
  3 and 6 host processes: no 429 (against 23 and 69 pacing alone), 1.7-2.4 table calls per Xero call:
  a grant is an ETag-conditional write (with a read first once another instance wrote the row lately)
  and carries as many calls as this instance's threads are asking for at that moment, but an
  organisation's 60 calls a minute spread over several instances mostly come one to a grant (granting
  more for pushes still reading Dynamics was measured too: 10% of such calls went unused, and a call
  granted and not made is lost to the minute). At Xero's 5,000 calls a day that
  is at most ~12,000 table transactions per organisation a day (Azure bills table transactions by the
  10,000: cents a month), for no 429s and no instance waiting on another.

A grant counts from the moment it is given until `hold` seconds later plus the minute: the calls it
carries must start within `hold` (the instance forgets them after that), so each leaves Xero's window
before it leaves ours. Xero's 5 calls in progress are counted exactly within an instance (its gate's
semaphore) and approximately across them: an instance is granted at most 5 calls less those granted
to other instances in the last `SPREAD` second (a sandbox call takes ~50 ms, Xero's a few hundred), so
instances do not all start their calls in the same moment when the minute frees.

Priority: live pushes (a user is waiting for the Xero number) first, then the Xero -> Dynamics reads,
then the sweep and the backfill. Lower classes may not use the last calls of the minute or the day, and
are refused while a higher class is waiting for the minute (it marks the row when refused), so a
backfill fills the minute's gaps without ever making a live push wait for its own leftovers.

The grant itself is `grant()` below, a pure function of the row's state: the table and the in-memory
ledgers run the same rule."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

MINUTE_LIMIT = 60  # Xero: calls per rolling minute per app and organisation
DAY_LIMIT = 5000  # Xero: calls per rolling day per app and organisation
CONCURRENT = 5  # Xero: calls in progress at once per app and organisation
SPREAD = 1.0  # real seconds: at most CONCURRENT calls granted per SPREAD, across every instance
# Our clock and Xero's differ by the network's latency and the instances' clock skew: a grant leaves our
# window this fraction of a minute after it leaves Xero's.
MARGIN = 0.005
DAY_BUCKETS = 24  # the day is counted in 24 buckets of an hour (of Xero's clock: 60 minutes)


class Priority(IntEnum):
    """Who is calling, most urgent first. Pass it to RateGate (reserved/check/before_call) or build the
    XeroAccounting client with it (bootstrap.xero_for(connection, priority))."""

    LIVE = 0  # a push of an invoice just saved in Dynamics
    INBOUND = 1  # Xero -> Dynamics reads after a Xero webhook
    BULK = 2  # the sweep and the backfill


# Calls of the minute and of the day each class leaves for the classes above it.
MINUTE_HEADROOM = {Priority.LIVE: 0, Priority.INBOUND: 2, Priority.BULK: 4}
DAY_HEADROOM = {Priority.LIVE: 0, Priority.INBOUND: 150, Priority.BULK: 300}
# ...and of the calls in progress at once: a sweep run by every instance at the same moment (timers fire
# together) must not take the moment's calls from a live push.
CONCURRENT_HEADROOM = {Priority.LIVE: 0, Priority.INBOUND: 1, Priority.BULK: 2}


@dataclass
class Window:
    """What the organisation's row holds: grants (given at, calls, instance) in the minute, calls per
    hour bucket in the day, Xero's own "wait" (a 429's Retry-After), and until when each class was
    refused and is waiting. Times are epoch seconds."""

    grants: list[tuple[float, int, str]] = field(default_factory=list)
    day: list[tuple[int, int]] = field(default_factory=list)  # (bucket number, calls)
    blocked_until: float = 0.0
    waiting: dict[int, float] = field(default_factory=dict)  # Priority -> refused, waiting until


@dataclass(frozen=True)
class Limits:
    minute: float = 60.0  # seconds of Xero's minute (shorter only against a sandbox on a fast clock)
    hold: float = 2.0  # seconds a granted call may wait to start
    spread: float = SPREAD  # at most CONCURRENT calls granted per `spread` seconds

    @property
    def counted_for(self) -> float:
        return self.minute * (1 + MARGIN) + self.hold

    @property
    def bucket(self) -> float:
        return self.minute * 60


@dataclass(frozen=True)
class Grant:
    calls: int  # granted now (0: refused)
    wait: float  # when refused: seconds until a call may be free
    instances: int  # instances that took calls of this organisation in the minute (for spreading turns)
    marked: bool = False  # the refusal marked the row (a higher class waiting): it must be written


def grant(window: Window, now: float, want: int, priority: Priority, holder: str, limits: Limits) -> Grant:
    """Grant up to `want` calls now (recorded in `window`), or say when to ask again."""
    _forget(window, now, limits)
    instances = len({h for _, _, h in window.grants} | {holder})
    minute_used = sum(n for _, n, _ in window.grants)
    day_used = sum(n for _, n in window.day)
    # the others' calls of the last moment (this instance's own in flight are its gate's to count)
    recent = [(t, n) for t, n, h in window.grants if t > now - limits.spread and h != holder]
    concurrent = CONCURRENT - CONCURRENT_HEADROOM[priority]
    higher_waiting = any(until > now for cls, until in window.waiting.items() if cls < priority)
    room = min(
        MINUTE_LIMIT - MINUTE_HEADROOM[priority] - minute_used,
        DAY_LIMIT - DAY_HEADROOM[priority] - day_used,
        concurrent - sum(n for _, n in recent),
    )
    if now >= window.blocked_until and not higher_waiting and room > 0:
        calls = min(want, room)
        window.grants.append((now, calls, holder))
        bucket = int(now // limits.bucket)
        if window.day and window.day[-1][0] == bucket:
            window.day[-1] = (bucket, window.day[-1][1] + calls)
        else:
            window.day.append((bucket, calls))
        return Grant(calls, 0.0, instances)
    wake = max(
        window.blocked_until,
        _frees_at(window.grants, minute_used - (MINUTE_LIMIT - MINUTE_HEADROOM[priority]) + 1, limits),
        _day_frees_at(window.day, day_used - (DAY_LIMIT - DAY_HEADROOM[priority]) + 1, limits),
        _spread_frees_at(recent, sum(n for _, n in recent) - concurrent + 1, limits.spread),
        now,
    )
    if higher_waiting:
        wake = max(wake, min(u for c, u in window.waiting.items() if c < priority and u > now))
    # Mark this class as waiting until a little after its wake-up, so lower classes leave it the
    # calls that free up by then. Only when that moves the mark: a refusal is otherwise read-only.
    mark = wake + limits.minute / 12
    marked = priority < max(Priority) and window.waiting.get(int(priority), 0.0) < wake
    if marked:
        window.waiting[int(priority)] = mark
    return Grant(0, wake - now, instances, marked)


def peek(window: Window | None, now: float, priority: Priority, limits: Limits) -> float:
    """Seconds until `grant` would give this class a call (0: now), without recording anything."""
    if window is None:
        return 0.0
    answer = grant(copy.deepcopy(window), now, 1, priority, "", limits)
    return 0.0 if answer.calls else answer.wait


def _frees_at(grants: list[tuple[float, int, str]], calls: int, limits: Limits) -> float:
    """When `calls` of the minute's granted calls will have left it (oldest first)."""
    if calls <= 0:
        return 0.0
    left = 0
    for given, n, _ in grants:
        left += n
        if left >= calls:
            return given + limits.counted_for
    return grants[-1][0] + limits.counted_for if grants else 0.0


def _day_frees_at(day: list[tuple[int, int]], calls: int, limits: Limits) -> float:
    if calls <= 0:
        return 0.0
    left = 0
    for bucket, n in day:
        left += n
        if left >= calls:
            return (bucket + 1 + DAY_BUCKETS) * limits.bucket
    return 0.0


def _spread_frees_at(recent: list[tuple[float, int]], calls: int, spread: float) -> float:
    if calls <= 0:
        return 0.0
    left = 0
    for given, n in recent:
        left += n
        if left >= calls:
            return given + spread
    return 0.0


def _forget(window: Window, now: float, limits: Limits) -> None:
    window.grants = [g for g in window.grants if g[0] + limits.counted_for > now]
    oldest = int(now // limits.bucket) - DAY_BUCKETS
    window.day = [(b, n) for b, n in window.day if b > oldest]
    window.waiting = {c: u for c, u in window.waiting.items() if u > now}


class Ledger(Protocol):
    """Where an organisation's Window lives: `take` grants up to `want` calls (see `grant`); `block`
    records Xero's own Retry-After for every instance (epoch seconds)."""

    limits: Limits

    def take(self, tenant_id: str, want: int, priority: Priority, holder: str) -> Grant: ...

    def peek(self, tenant_id: str, priority: Priority) -> float:
        """Seconds until the row as this process last saw it would grant a call (0: now), with no storage
        call and no wait: calls only join the row, so a refusal seen stays a refusal."""
        ...

    def block(self, tenant_id: str, until: float) -> None: ...


class MemoryLedger:
    """The ledger of one process (tests, tools, and a worker with no shared storage)."""

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, Window] = {}

    def take(self, tenant_id: str, want: int, priority: Priority, holder: str) -> Grant:
        with self._lock:
            window = self._windows.setdefault(tenant_id, Window())
            return grant(window, self._clock(), want, priority, holder, self.limits)

    def peek(self, tenant_id: str, priority: Priority) -> float:
        with self._lock:
            return peek(self._windows.get(tenant_id), self._clock(), priority, self.limits)

    def block(self, tenant_id: str, until: float) -> None:
        with self._lock:
            window = self._windows.setdefault(tenant_id, Window())
            window.blocked_until = max(window.blocked_until, until)
