"""Several events for one invoice, one push: Dynamics fires an event for the invoice and for each of its
lines, often within milliseconds. Pushes of the same invoice run one at a time in a worker, and an event
is covered — nothing left to do — once a push read the invoice after the event arrived: that read already
contained the event's change, so reading and writing again would only repeat it.

- An event whose invoice is being pushed right now is HANDED OVER: the running push reads the invoice
  once more before it lets go of it, and the event's message completes at once (no requeue, no second
  delivery, no worker thread waiting). Nothing is lost if the running push fails: its own message comes
  back and that later read covers the handed-over change too.
- An event skipped as covered relies on a push that FINISHED in this worker (a failed push covers
  nothing).

The rule compares the event's arrival time with the read time. Within one process both come from the
same clock. An event received by another instance carries that instance's clock, so it only counts as
covered by a read made a margin for clock skew later; one whose margin has not passed yet is deferred
for a moment instead of handed over (a read now could not cover it)."""

from __future__ import annotations

import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from shared.errors import RetriableError

SKEW_MARGIN = timedelta(seconds=2)
BUSY_RETRY_SECONDS = 1.0
REMEMBERED = 20_000
PROCESS = f"{os.environ.get('WEBSITE_INSTANCE_ID', socket.gethostname())[:40]}:{os.getpid()}"


class HandedOver(Exception):
    """Not a failure: the push running for this invoice will read it again and cover this event."""


class InvoiceGate:
    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        self._busy: set[tuple[str, str]] = set()
        self._handed: dict[tuple[str, str], datetime] = {}  # key -> the latest handed-over event's need
        self._read_at: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._memo_lock = threading.Lock()

    @contextmanager
    def serial(
        self, connection_id: str, invoice_id: str, received_at: datetime | None = None, received_by: str = ""
    ) -> Iterator[Turn]:
        """One push of an invoice at a time in this worker. A second event of an invoice being pushed is
        handed over (HandedOver), or, from another instance within its clock margin, deferred a moment."""
        key = (connection_id, invoice_id)
        with self._memo_lock:
            if key in self._busy:
                needs = _needs_read_after(received_at, received_by)
                if needs is None or needs > self._now():
                    raise RetriableError(
                        "this invoice is being pushed right now", retry_after=BUSY_RETRY_SECONDS
                    )
                self._handed[key] = max(needs, self._handed.get(key, needs))
                raise HandedOver()
            self._busy.add(key)
        turn = Turn(self, key)
        try:
            yield turn
        finally:
            # after a failure the handed-over events ride on the redelivered message: its read covers them
            turn.release()

    def covered(
        self, connection_id: str, invoice_id: str, received_at: datetime | None, received_by: str
    ) -> bool:
        needs = _needs_read_after(received_at, received_by)
        if needs is None:
            return False
        with self._memo_lock:
            read_at = self._read_at.get((connection_id, invoice_id))
        return read_at is not None and read_at > needs

    def pushed(self, connection_id: str, invoice_id: str, read_at: datetime) -> None:
        """Remember a finished push's read time (only after its result is written: a failed push covers
        nothing)."""
        with self._memo_lock:
            key = (connection_id, invoice_id)
            self._read_at[key] = max(read_at, self._read_at.get(key, read_at))
            self._read_at.move_to_end(key)
            while len(self._read_at) > REMEMBERED:
                self._read_at.popitem(last=False)


class Turn:
    """A running push's hold on its invoice."""

    def __init__(self, gate: InvoiceGate, key: tuple[str, str]) -> None:
        self._gate, self._key, self._held = gate, key, True

    def read_again(self, read_at: datetime) -> bool:
        """Called by the running push when it is done: True when an event was handed over that its read
        (at `read_at`) did not see, so it must read and push once more. Otherwise the invoice is let go
        in the same step, so no event can be handed over to a push that is no longer looking."""
        gate = self._gate
        with gate._memo_lock:
            needs = gate._handed.pop(self._key, None)
            if needs is not None and needs >= read_at:
                return True
            self._let_go()
            return False

    def release(self) -> None:
        with self._gate._memo_lock:
            self._let_go()

    def _let_go(self) -> None:
        if self._held:
            self._gate._busy.discard(self._key)
            self._gate._handed.pop(self._key, None)
            self._held = False


def _needs_read_after(received_at: datetime | None, received_by: str) -> datetime | None:
    """A read after this moment contains the event's change (None: unknown, no read is known to)."""
    if received_at is None:
        return None
    return received_at if received_by == PROCESS else received_at + SKEW_MARGIN
