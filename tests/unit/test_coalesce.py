"""One push per invoice at a time in a worker: a second event of an invoice being pushed is handed over to
the running push (which reads once more if its read missed the event), never dropped and never queued
again; an event from another instance within the clock margin waits instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import RetriableError
from shared.sync.coalesce import PROCESS, SKEW_MARGIN, HandedOver, InvoiceGate

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CONNECTION, INVOICE = "conn", "inv"


def _gate(now: datetime) -> InvoiceGate:
    return InvoiceGate(now=lambda: now)


def _another_event(gate: InvoiceGate, received: datetime, by: str = PROCESS) -> None:
    """What the worker does with the next event of the invoice: start a push, or be handed over."""
    with gate.serial(CONNECTION, INVOICE, received, by):
        pass


def test_an_event_arriving_during_a_push_is_handed_over_and_read_once_more() -> None:
    gate = _gate(T0 + timedelta(seconds=5))
    with gate.serial(CONNECTION, INVOICE, T0, PROCESS) as turn:
        read_at = T0 + timedelta(seconds=1)
        # the line's event arrives after the running push read the invoice
        with pytest.raises(HandedOver):
            _another_event(gate, T0 + timedelta(seconds=2))
        assert turn.read_again(read_at) is True
        # the second read (after the event) saw it: the push lets go
        assert turn.read_again(T0 + timedelta(seconds=3)) is False
    with gate.serial(CONNECTION, INVOICE, T0, PROCESS):  # free again
        pass


def test_an_event_the_running_read_already_saw_costs_no_second_read() -> None:
    gate = _gate(T0 + timedelta(seconds=5))
    with gate.serial(CONNECTION, INVOICE, T0, PROCESS) as turn:
        with pytest.raises(HandedOver):
            _another_event(gate, T0 + timedelta(seconds=1))
        assert turn.read_again(T0 + timedelta(seconds=2)) is False


def test_once_the_push_let_go_a_new_event_starts_its_own_push_instead_of_being_handed_over() -> None:
    gate = _gate(T0 + timedelta(seconds=5))
    with gate.serial(CONNECTION, INVOICE, T0, PROCESS) as turn:
        assert turn.read_again(T0 + timedelta(seconds=1)) is False
        # still inside the running push's `with`, but it has let go: the next event is not handed to it
        with gate.serial(CONNECTION, INVOICE, T0 + timedelta(seconds=2), PROCESS) as second:
            assert second.read_again(T0 + timedelta(seconds=3)) is False


def test_a_failed_push_lets_go_and_forgets_what_was_handed_to_it() -> None:
    gate = _gate(T0 + timedelta(seconds=5))
    with pytest.raises(RuntimeError), gate.serial(CONNECTION, INVOICE, T0, PROCESS):
        with pytest.raises(HandedOver):
            _another_event(gate, T0 + timedelta(seconds=2))
        raise RuntimeError("Xero answered 503")  # its message comes back and reads again
    with gate.serial(CONNECTION, INVOICE, T0, PROCESS) as turn:
        assert turn.read_again(T0 + timedelta(seconds=1)) is False  # nothing handed over any more


def test_an_event_from_another_instance_inside_the_clock_margin_waits_a_moment() -> None:
    received = T0 + timedelta(seconds=4)
    gate = _gate(received + SKEW_MARGIN / 2)  # a read now might not contain that instance's change
    with gate.serial(CONNECTION, INVOICE, T0, PROCESS), pytest.raises(RetriableError) as deferred:
        _another_event(gate, received, "other-instance:1")
    assert deferred.value.retry_after is not None and deferred.value.retry_after > 0


def test_an_event_from_another_instance_past_the_margin_is_handed_over_with_the_margin() -> None:
    received = T0
    gate = _gate(T0 + SKEW_MARGIN + timedelta(seconds=1))
    with gate.serial(CONNECTION, INVOICE, T0, PROCESS) as turn:
        with pytest.raises(HandedOver):
            _another_event(gate, received, "other-instance:1")
        # a read made 1 s after that instance's clock said "received" is not trusted to contain it
        assert turn.read_again(received + timedelta(seconds=1)) is True


def test_covered_needs_a_finished_push_that_read_after_the_event() -> None:
    gate = _gate(T0)
    assert not gate.covered(CONNECTION, INVOICE, T0, PROCESS)
    gate.pushed(CONNECTION, INVOICE, T0 + timedelta(seconds=1))
    assert gate.covered(CONNECTION, INVOICE, T0, PROCESS)
    assert not gate.covered(CONNECTION, INVOICE, T0 + timedelta(seconds=2), PROCESS)
    assert not gate.covered(CONNECTION, INVOICE, T0, "other-instance:1")  # within the skew margin
    assert not gate.covered(CONNECTION, INVOICE, None, PROCESS)  # arrival unknown: read again
