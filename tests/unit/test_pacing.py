"""The per-organisation pacing: a minute's budget counted from our own calls and Xero's headers, pushes
reserved before Dynamics is read, deferrals spread in line, and a 429's Retry-After respected."""

from __future__ import annotations

import pytest

from shared.errors import RetriableError
from shared.xero.pacing import MINUTE_LIMIT, RESERVE, RateGate

TENANT = "tenant-a"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _gate(clock: Clock) -> RateGate:
    return RateGate(clock=clock, minute=60.0, jitter=lambda: 0.0)


def _counted(gate: RateGate, remaining: int = MINUTE_LIMIT) -> None:
    gate.observe(TENANT, {"X-MinLimit-Remaining": str(remaining)})


def _spend(gate: RateGate, calls: int) -> None:
    for _ in range(calls):
        gate.before_call(TENANT)


def _deferral(action) -> float:  # type: ignore[no-untyped-def]
    with pytest.raises(RetriableError) as caught:
        action()
    assert caught.value.retry_after is not None
    return caught.value.retry_after


def test_calls_pass_until_the_reserve_is_reached_then_wait_for_the_oldest_to_leave_the_minute() -> None:
    clock = Clock()
    gate = _gate(clock)
    _counted(gate)
    _spend(gate, MINUTE_LIMIT - RESERVE)
    clock.now += 10
    wait = _deferral(lambda: gate.before_call(TENANT))
    # the first call leaves the rolling minute 60 s (plus a small margin) after it started, 10 s ago
    assert 50 <= wait <= 52
    clock.now += wait
    gate.before_call(TENANT)  # room again


def test_an_organisation_that_reports_no_budget_is_not_paced_by_our_count() -> None:
    gate = _gate(Clock())  # a sandbox with its limits off: no X-MinLimit-Remaining
    _spend(gate, 200)


def test_other_workers_calls_count_from_the_remaining_header() -> None:
    gate = _gate(Clock())
    _counted(gate, remaining=5)  # 55 calls were made by others this minute
    _spend(gate, 3)
    _deferral(lambda: gate.before_call(TENANT))


def test_xero_counting_fewer_of_our_calls_than_we_did_frees_them_at_once() -> None:
    clock = Clock()
    gate = _gate(clock)
    _counted(gate)
    _spend(gate, MINUTE_LIMIT - RESERVE)
    _deferral(lambda: gate.before_call(TENANT))
    # Xero answers that only 10 calls are in its window (its minute moved on, or calls never reached it)
    _counted(gate, remaining=MINUTE_LIMIT - 10)
    _spend(gate, MINUTE_LIMIT - RESERVE - 10)
    _deferral(lambda: gate.before_call(TENANT))


def test_calls_still_in_flight_are_not_taken_back_by_an_earlier_answer() -> None:
    gate = _gate(Clock())
    _counted(gate)
    _spend(gate, 3)
    with gate.slot(TENANT), gate.slot(TENANT):  # two sent, not yet counted by Xero when it answered one
        _counted(gate, remaining=MINUTE_LIMIT - 1)
    _spend(gate, MINUTE_LIMIT - RESERVE - 3)  # 3 counted as ours: room for exactly the rest
    _deferral(lambda: gate.before_call(TENANT))


def test_a_reservation_is_the_pushs_first_call_and_is_given_back_when_unused() -> None:
    gate = _gate(Clock())
    _counted(gate)
    _spend(gate, MINUTE_LIMIT - RESERVE - 1)
    with gate.reserved(TENANT):
        _deferral(lambda: gate.reserved(TENANT).__enter__())  # the last call of the minute is held
        gate.before_call(TENANT)  # ...and used by the push that holds it
    _deferral(lambda: gate.before_call(TENANT))
    clock = Clock()
    fresh = _gate(clock)
    _counted(fresh)
    _spend(fresh, MINUTE_LIMIT - RESERVE - 1)
    with fresh.reserved(TENANT):
        pass  # no Xero call made (the invoice was unchanged)
    fresh.before_call(TENANT)  # the reservation came back


def test_deferred_pushes_get_turns_spread_at_a_little_more_than_the_budget_allows() -> None:
    clock = Clock()
    gate = _gate(clock)
    _counted(gate)
    _spend(gate, MINUTE_LIMIT - RESERVE)
    waits = [_deferral(lambda n=n: gate.reserved(TENANT, f"invoice-{n}").__enter__()) for n in range(10)]
    gaps = [b - a for a, b in zip(waits, waits[1:], strict=False)]
    assert all(gap > 0 for gap in gaps)  # in line, not all at once
    per_minute = 60 / gaps[0]
    assert (MINUTE_LIMIT - RESERVE) < per_minute < 2 * MINUTE_LIMIT


def test_another_event_of_an_invoice_in_line_wakes_just_after_its_turn_and_takes_none() -> None:
    clock = Clock()
    gate = _gate(clock)
    _counted(gate)
    _spend(gate, MINUTE_LIMIT - RESERVE)
    invoice = _deferral(lambda: gate.reserved(TENANT, "invoice-1").__enter__())
    line = _deferral(lambda: gate.reserved(TENANT, "invoice-1").__enter__())
    other = _deferral(lambda: gate.reserved(TENANT, "invoice-2").__enter__())
    assert invoice < line < other


def test_a_429_holds_every_call_of_the_organisation_for_its_retry_after() -> None:
    clock = Clock()
    gate = _gate(clock)
    gate.observe(TENANT, {"Retry-After": "7", "X-Rate-Limit-Problem": "minute"})
    assert 7 <= _deferral(lambda: gate.reserved(TENANT).__enter__()) <= 8
    gate.before_call("another-tenant")  # organisations are paced apart
    clock.now += 7
    gate.before_call(TENANT)
