"""Several events for one invoice, one push: Dynamics fires an event for the invoice and for each of its
lines, often within milliseconds. Pushes of the same invoice run one at a time in a worker, and an event
is skipped when a push that FINISHED in this worker read the invoice after the event arrived — that read
already contained the event's change, so reading and writing again would only repeat it.

The rule compares the event's arrival time with the read time. Within one process both come from the
same clock. An event received by another instance carries that instance's clock, so it is only treated
as covered with a margin for clock skew between instances."""

from __future__ import annotations

import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from shared.errors import RetriableError

SKEW_MARGIN = timedelta(seconds=2)
BUSY_RETRY_SECONDS = 1.0
REMEMBERED = 20_000
PROCESS = f"{os.environ.get('WEBSITE_INSTANCE_ID', socket.gethostname())[:40]}:{os.getpid()}"


class InvoiceGate:
    def __init__(self) -> None:
        self._busy: set[tuple[str, str]] = set()
        self._read_at: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._memo_lock = threading.Lock()

    @contextmanager
    def serial(self, connection_id: str, invoice_id: str) -> Iterator[None]:
        """One push of an invoice at a time in this worker. A second event of an invoice being pushed does
        not wait (it would hold a worker thread that other invoices need): it comes back in a moment, when
        the running push has most likely covered it."""
        key = (connection_id, invoice_id)
        with self._memo_lock:
            if key in self._busy:
                raise RetriableError("this invoice is being pushed right now", retry_after=BUSY_RETRY_SECONDS)
            self._busy.add(key)
        try:
            yield
        finally:
            with self._memo_lock:
                self._busy.discard(key)

    def covered(
        self, connection_id: str, invoice_id: str, received_at: datetime | None, received_by: str
    ) -> bool:
        if received_at is None:
            return False
        with self._memo_lock:
            read_at = self._read_at.get((connection_id, invoice_id))
        if read_at is None:
            return False
        margin = timedelta(0) if received_by == PROCESS else SKEW_MARGIN
        return read_at > received_at + margin

    def pushed(self, connection_id: str, invoice_id: str, read_at: datetime) -> None:
        """Remember a finished push's read time (only after its result is written: a failed push covers
        nothing)."""
        with self._memo_lock:
            key = (connection_id, invoice_id)
            self._read_at[key] = max(read_at, self._read_at.get(key, read_at))
            self._read_at.move_to_end(key)
            while len(self._read_at) > REMEMBERED:
                self._read_at.popitem(last=False)
