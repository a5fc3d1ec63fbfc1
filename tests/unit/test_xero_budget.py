"""The organisation's shared ledger (shared/xero/budget.py): one minute for every instance, granted
several calls at a time, live pushes first, organisations apart; and the gate that draws on it."""

from __future__ import annotations

import pytest

from shared.errors import RetriableError
from shared.xero.budget import (
    CONCURRENT,
    DAY_LIMIT,
    MINUTE_HEADROOM,
    MINUTE_LIMIT,
    Limits,
    MemoryLedger,
    Priority,
    Window,
    grant,
)
from shared.xero.pacing import RateGate

A, B = "tenant-a", "tenant-b"
LIMITS = Limits(minute=60.0, hold=2.0, spread=0.0)  # spread 0: the minute alone, unless a test says


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _fill(window: Window, clock: Clock, calls: int, priority: Priority = Priority.LIVE) -> int:
    taken = 0
    while taken < calls:
        answer = grant(window, clock.now, min(CONCURRENT, calls - taken), priority, "x", LIMITS)
        if not answer.calls:
            break
        taken += answer.calls
    return taken


def test_two_instances_share_one_minute() -> None:
    clock, window = Clock(), Window()
    first = _fill(window, clock, 40)
    second = grant(window, clock.now, 5, Priority.LIVE, "other", LIMITS)
    taken = first + second.calls + _fill(window, clock, 100)
    assert taken == MINUTE_LIMIT and second.instances == 2
    refused = grant(window, clock.now + 10, 1, Priority.LIVE, "other", LIMITS)
    # the first grant leaves the window a minute, its hold and a small margin after it was given
    assert refused.calls == 0 and 50 + LIMITS.hold <= refused.wait <= 51 + LIMITS.hold
    clock.now += refused.wait + 10
    assert grant(window, clock.now, 1, Priority.LIVE, "other", LIMITS).calls == 1


def test_a_grant_carries_several_calls_but_no_more_than_xero_allows_at_once() -> None:
    window, limits = Window(), Limits(minute=60.0, hold=2.0, spread=1.0)
    assert grant(window, 100.0, 20, Priority.LIVE, "x", limits).calls == CONCURRENT
    refused = grant(window, 100.2, 1, Priority.LIVE, "y", limits)  # another instance, the same moment
    assert refused.calls == 0 and refused.wait == pytest.approx(0.8)
    assert grant(window, 101.0, 2, Priority.LIVE, "y", limits).calls == 2
    # an instance's own calls in progress are its gate's semaphore to count: one push's calls in a row
    assert grant(window, 101.1, 5, Priority.LIVE, "x", limits).calls == CONCURRENT - 2
    # a sweep on another instance leaves live pushes their share of the moment
    window = Window()
    assert grant(window, 200.0, 3, Priority.LIVE, "x", limits).calls == 3
    assert grant(window, 200.1, 5, Priority.BULK, "z", limits).calls == 0
    assert grant(window, 200.1, 5, Priority.LIVE, "z", limits).calls == CONCURRENT - 3


def test_bulk_leaves_the_last_calls_of_the_minute_to_live_pushes() -> None:
    clock, window = Clock(), Window()
    bulk = _fill(window, clock, 100, Priority.BULK)
    assert bulk == MINUTE_LIMIT - MINUTE_HEADROOM[Priority.BULK]
    assert _fill(window, clock, 100, Priority.LIVE) == MINUTE_HEADROOM[Priority.BULK]


def test_a_waiting_live_push_goes_before_a_backfill_that_asked_first() -> None:
    clock, window = Clock(), Window()
    _fill(window, clock, MINUTE_LIMIT)
    live = grant(window, clock.now, 1, Priority.LIVE, "live", LIMITS)
    assert live.calls == 0 and live.marked  # refused: the row now says a live push is waiting
    clock.now += live.wait  # calls leave the window; the backfill happens to ask first
    assert grant(window, clock.now, 5, Priority.BULK, "backfill", LIMITS).calls == 0
    assert grant(window, clock.now, 1, Priority.LIVE, "live", LIMITS).calls == 1


def test_the_day_limit_and_xeros_own_wait_hold_every_class() -> None:
    window = Window(day=[(int(1_000_000 // LIMITS.bucket), DAY_LIMIT)])
    refused = grant(window, 1_000_000.0, 1, Priority.LIVE, "x", LIMITS)
    assert refused.calls == 0 and refused.wait > 3600
    blocked = Window(blocked_until=1_000_030.0)
    assert grant(blocked, 1_000_000.0, 1, Priority.LIVE, "x", LIMITS).wait == pytest.approx(30)


def test_gates_of_two_processes_drawing_on_one_ledger_never_grant_more_than_the_minute() -> None:
    clock = Clock()
    ledger = MemoryLedger(LIMITS, clock)
    gates = [RateGate(clock=clock, minute=60.0, jitter=lambda: 0.0, ledger=ledger) for _ in range(2)]
    granted = refused = 0
    for n in range(200):
        try:
            gates[n % 2].before_call(A)
            granted += 1
        except RetriableError:
            refused += 1
    assert granted == MINUTE_LIMIT and refused == 200 - MINUTE_LIMIT
    gates[0].before_call(B)  # another organisation is untouched by A's full minute


def test_a_message_for_a_full_minute_is_deferred_without_asking_the_ledger() -> None:
    clock = Clock()
    ledger = CountingLedger(LIMITS, clock)
    gate = RateGate(clock=clock, minute=60.0, jitter=lambda: 0.0, ledger=ledger)
    for _ in range(MINUTE_LIMIT):
        gate.before_call(A)
    asked = ledger.asked
    waits = []
    for n in range(20):
        with pytest.raises(RetriableError) as caught:
            gate.reserved(A, f"invoice-{n}").__enter__()
        waits.append(caught.value.retry_after or 0)
    assert ledger.asked == asked  # the row as last seen says it: no storage call for a deferral
    assert waits == sorted(waits) and waits[-1] > waits[0]  # deferred in line, not all at once


def test_a_push_that_makes_no_xero_call_takes_nothing_from_the_ledger() -> None:
    clock = Clock()
    ledger = CountingLedger(LIMITS, clock)
    gate = RateGate(clock=clock, minute=60.0, jitter=lambda: 0.0, ledger=ledger)
    with gate.reserved(A):
        pass  # the invoice was unchanged: no Xero call
    with gate.reserved(A):
        gate.before_call(A)
    assert ledger.asked == 1


class CountingLedger(MemoryLedger):
    asked = 0

    def take(self, tenant_id: str, want: int, priority: Priority, holder: str):  # type: ignore[no-untyped-def]
        self.asked += 1
        return super().take(tenant_id, want, priority, holder)
