"""Staying inside Xero's limits per organisation: at most 5 calls in flight (Xero's concurrency limit)
and no call once the rolling minute's budget is known to be spent — the caller defers the work instead of
collecting a 429.

With a ledger (shared/xero/budget.py; the worker's composition root passes the table one) every call is
first granted by the organisation's ledger, which every instance shares, in the caller's Priority class.
This gate keeps the calls granted to this process and not yet started (a grant carries several), until
when the ledger refused each class (a refused class asks again only once that moment has come: no table
call per deferred message) and Xero's own answers (a 429's Retry-After goes to the ledger, for every
instance). Without a ledger (tools, tests) the process paces alone, from the start times of its own
calls, the calls Xero counted that were not ours (X-MinLimit-Remaining) and a 429's Retry-After.

Either way a push reserves its first call before it reads Dynamics, so a message that has to wait costs
no Dataverse call; and deferred messages are given wake-up times spread at a little more than the rate
the budget allows (across instances: each spreads its own at that rate divided by the instances the
ledger has seen), in the order they asked: thousands of them do not all wake at the same moment, and
there is always one ready when the window frees a call. An organisation whose Xero reports no limits (a
sandbox with its limits off) is not paced at all."""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NoReturn

from shared.errors import RetriableError
from shared.http import retry_after
from shared.xero.budget import CONCURRENT, Ledger, Priority

MAX_IN_FLIGHT = 5
MINUTE = 60.0
MINUTE_LIMIT = 60  # Xero's calls per minute per organisation and app
# Keep a few calls of the minute budget for the other workers of the same organisation.
RESERVE = 2
# Wake deferred messages a little faster than the budget allows: one that finds no room waits again
# (a queue round trip, no API call), while a window slot nobody is ready to use is lost for good.
OVERBOOK = 1.25
# Our clock and Xero's differ by the network's latency: treat a call as leaving Xero's window this
# fraction of a minute (0.3 s) later than it leaves ours.
MARGIN = 0.005
REMEMBERED_TURNS = 20_000
# Seconds a thread waits for another thread's grant of the same organisation before deferring instead.
TAKE_WAIT = 2.0


@dataclass
class _Org:
    started: deque[float] = field(default_factory=deque)  # our calls in the rolling minute, oldest first
    others: int = 0  # calls Xero counted in the window that were not this worker's
    others_until: float = 0.0  # that estimate is forgotten after a minute
    reserved: int = 0  # pushes admitted whose first call has not started yet
    blocked_until: float = 0.0  # Xero said 429 with Retry-After
    next_wake: float = 0.0  # the wake-up time handed to the last deferred message
    turns: OrderedDict[str, float] = field(default_factory=OrderedDict)  # key -> its wake-up time
    counted: bool = False  # Xero reports this organisation's minute (a sandbox with limits off does not)
    in_flight: int = 0  # our calls sent and not yet answered
    tenant_id: str = ""
    # With a ledger: calls granted to this process and not yet started (expiry times), per class; until
    # when the ledger refused each class; threads asking for a grant; instances sharing the organisation.
    stock: dict[Priority, deque[float]] = field(default_factory=dict)
    refused_until: dict[Priority, float] = field(default_factory=dict)
    asking: int = 0
    instances: int = 1
    uncounted: bool = False  # Xero answered without limit headers (a sandbox with its limits off)
    taking: threading.Lock = field(default_factory=threading.Lock)


class RateGate:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        max_in_flight: int = MAX_IN_FLIGHT,
        minute: float = MINUTE,
        jitter: Callable[[], float] = random.random,
        ledger: Ledger | None = None,
        holder: str = "",
    ) -> None:
        self._clock = clock
        self._ledger = ledger
        self._holder = holder or f"{random.getrandbits(48):012x}"  # this process, in the ledger's row
        self._max = max_in_flight
        self.minute = minute  # Xero's rate window; shorter only against a sandbox on a fast clock
        self._jitter = jitter
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._orgs: dict[str, _Org] = {}
        self._held = threading.local()  # this thread's reservations: tenant id -> count

    # -- what Xero told us ------------------------------------------------------------------------------
    def observe(self, tenant_id: str, headers: Mapping[str, str]) -> None:
        remaining = _header(headers, "X-MinLimit-Remaining")
        wait = retry_after(headers)
        problem = (_header(headers, "X-Rate-Limit-Problem") or "").lower()
        with self._lock:
            org, now = self._org(tenant_id), self._clock()
            if remaining is not None and remaining.strip().lstrip("-").isdigit():
                org.counted, org.uncounted = True, False
                by_xero = MINUTE_LIMIT - int(remaining)
                # Xero's count is the truth: calls of ours it no longer counts (it let them go, or they
                # never reached it) leave our window too. Calls still in flight may not be counted yet.
                for _ in range(len(org.started) - org.in_flight - max(0, by_xero)):
                    org.started.popleft()
                org.others = max(0, by_xero - len(org.started))
                org.others_until = now + self.minute
            elif wait is None and not org.counted:
                org.uncounted = True
            blocked = wait is not None and problem != "concurrent"
            if blocked:
                org.blocked_until = max(org.blocked_until, now + (wait or 0))
        if blocked and self._ledger is not None:  # every instance waits for Xero's Retry-After, not only us
            self._ledger.block(tenant_id, time.time() + (wait or 0))

    # -- before reading Dynamics ------------------------------------------------------------------------
    def check(self, tenant_id: str, key: str | None = None, priority: Priority = Priority.LIVE) -> None:
        """Raise as `reserved` would when the minute has no room, without holding anything: a message that
        must wait anyway is deferred before its connection is even read."""
        with self._lock:
            self._admit(self._org(tenant_id), self._clock(), key, priority)

    @contextmanager
    def reserved(
        self, tenant_id: str, key: str | None = None, priority: Priority = Priority.LIVE
    ) -> Iterator[None]:
        """Hold one call of the minute for a push about to start; its first call uses it. Raises
        RetriableError (defer, with a spread wake-up time) when the minute has no room for it.

        `key` names what is pushed (an invoice): Dynamics sends one event per invoice and per line, and
        an event whose invoice already has a turn in the line wakes just after that turn (by then the
        push is done and covers it) instead of taking a turn of its own."""
        with self._lock:
            org = self._org(tenant_id)
            self._admit(org, self._clock(), key, priority)
            org.reserved += 1
        held = self._holdings()
        held[tenant_id] = held.get(tenant_id, 0) + 1
        try:
            yield
        finally:
            if held.get(tenant_id, 0) > 0:  # the push made no Xero call: give the reservation back
                held[tenant_id] -= 1
                with self._lock:
                    org.reserved -= 1

    # -- before each call -------------------------------------------------------------------------------
    def before_call(self, tenant_id: str, priority: Priority = Priority.LIVE) -> None:
        """Count one call, or raise RetriableError (defer) when this organisation's minute is spent."""
        held = self._holdings()
        with self._lock:
            org, now = self._org(tenant_id), self._clock()
            reservation = held.get(tenant_id, 0) > 0 and now >= org.blocked_until
            if reservation:
                held[tenant_id] -= 1
                org.reserved -= 1
            elif self._ledger is None:
                self._admit(org, now)
            org.started.append(now)
        # With a ledger the call is granted now, as it starts (a reservation only kept the message from
        # reading Dynamics when the ledger had refused): a grant taken earlier could expire unused
        # while Dynamics answers, and a granted call counts whether it is made or not.
        self._granted(tenant_id, org, priority)

    @contextmanager
    def slot(self, tenant_id: str) -> Iterator[None]:
        with self._lock:
            semaphore = self._slots.setdefault(tenant_id, threading.BoundedSemaphore(self._max))
            org = self._org(tenant_id)
        with semaphore:
            with self._lock:
                org.in_flight += 1
            try:
                yield
            finally:
                with self._lock:
                    org.in_flight -= 1

    # -- the budget -------------------------------------------------------------------------------------
    def _admit(
        self, org: _Org, now: float, key: str | None = None, priority: Priority = Priority.LIVE
    ) -> None:
        """Return if a call fits in the rolling minute now; else raise with when to try again."""
        self._forget(org, now)
        if self._ledger is not None and not org.uncounted:
            # the ledger decides; until the moment it said, this class does not ask it again
            free_at = max(org.blocked_until, org.refused_until.get(priority, 0.0))
            if now >= free_at:
                wait = self._ledger.peek(org.tenant_id, priority)  # the row as last seen: no storage call
                if wait <= 0:
                    return
                free_at = org.refused_until[priority] = now + wait
            # every instance lines its deferred messages up: together, a little above the budget's rate
            self._line_up(org, now, key, free_at, self._spacing(org))
        used = len(org.started) + org.others + org.reserved
        room = MINUTE_LIMIT - RESERVE
        if now >= org.blocked_until and (used < room or not org.counted):
            return
        if not org.counted:  # only a 429 holds us back: wake after its Retry-After, spread over a second
            self._defer(org.blocked_until - now + self._jitter())
        free_at = max(org.blocked_until, self._frees_at(org, now, used - room + 1))
        self._line_up(org, now, key, free_at, self.minute / (room * OVERBOOK))

    def _line_up(self, org: _Org, now: float, key: str | None, free_at: float, spacing: float) -> NoReturn:
        """Defer with a wake-up time in line after the last one handed out, from `free_at` on."""
        turn = org.turns.get(key) if key else None
        if turn is not None and turn > now:
            self._defer(turn - now + spacing * (1 + self._jitter()) / 2)
        wake = max(free_at, org.next_wake + spacing)
        org.next_wake = wake
        if key:
            org.turns[key] = wake
            org.turns.move_to_end(key)
            while len(org.turns) > REMEMBERED_TURNS:
                org.turns.popitem(last=False)
        self._defer(wake - now + spacing * self._jitter())

    def _granted(self, tenant_id: str, org: _Org, priority: Priority, key: str | None = None) -> float | None:
        """One call granted by the ledger (from this process's stock, else a grant of as many calls as
        this process's threads are asking for): when it must have started by. None: no ledger for this
        organisation. Raises RetriableError (defer, in line) when the ledger refuses."""
        ledger = self._ledger
        if ledger is None or org.uncounted:
            return None
        with self._lock:
            org.asking += 1
        # one grant at a time per organisation: the threads behind it share it; but never wait long,
        # or one organisation's backlog would hold this process's threads from everyone else's work
        if not org.taking.acquire(timeout=TAKE_WAIT):
            with self._lock:
                org.asking -= 1
                self._line_up(org, self._clock(), key, self._clock(), self._spacing(org))
        try:
            with self._lock:
                org.asking -= 1
                now = self._clock()
                for cls in (priority, *(c for c in Priority if c != priority and priority == Priority.LIVE)):
                    stock = org.stock.get(cls)
                    while stock and stock[0] <= now:
                        stock.popleft()
                    if stock:
                        return stock.popleft()
                # as many as the threads waiting here: a push still reading Dynamics may never call (its
                # invoice unchanged, handed over), and a call granted and not made is a call lost
                want = min(CONCURRENT, 1 + org.asking)
            answer = ledger.take(tenant_id, want, priority, self._holder)
            with self._lock:
                now = self._clock()
                org.instances = answer.instances
                if answer.calls:
                    expiry = now + ledger.limits.hold
                    org.stock.setdefault(priority, deque()).extend([expiry] * (answer.calls - 1))
                    org.refused_until.pop(priority, None)
                    return expiry
                org.refused_until[priority] = now + max(answer.wait, 0.1)
                self._admit(org, now, key, priority)
        finally:
            org.taking.release()
        raise AssertionError("a refused grant defers")  # pragma: no cover

    def _spacing(self, org: _Org) -> float:
        """Between two wake-ups this process hands out: together, every instance wakes its deferred
        messages a little faster than the minute allows."""
        return self.minute * org.instances / (MINUTE_LIMIT * OVERBOOK)

    @staticmethod
    def _defer(wait: float) -> NoReturn:
        raise RetriableError(
            "Xero's per-minute limit for this organisation is nearly used up", retry_after=wait
        )

    def _frees_at(self, org: _Org, now: float, calls_to_leave: int) -> float:
        """When `calls_to_leave` of the window's calls will have left it (ours leave a minute after
        they started; others' at an unknown moment, at the latest when their estimate is forgotten)."""
        if calls_to_leave <= 0:
            return now
        late = self.minute * (1 + MARGIN)
        if calls_to_leave <= len(org.started):
            return org.started[calls_to_leave - 1] + late
        return max(now, org.others_until) if org.others else now + late

    def _forget(self, org: _Org, now: float) -> None:
        while org.started and org.started[0] + self.minute * (1 + MARGIN) <= now:
            org.started.popleft()
        if org.others and now >= org.others_until:
            org.others = 0

    def _org(self, tenant_id: str) -> _Org:
        org = self._orgs.get(tenant_id)
        if org is None:
            org = self._orgs[tenant_id] = _Org(tenant_id=tenant_id)
        return org

    def _holdings(self) -> dict[str, int]:
        held: dict[str, int] | None = getattr(self._held, "by_tenant", None)
        if held is None:
            held = self._held.by_tenant = {}
        return held


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # requests' headers are case-insensitive; a plain dict may not be
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value
