"""Queue message leases, kept alive while their invocation runs — as the Functions host does (it takes
messages for 10 minutes and renews them at half time). A running invocation keeps its message however
long it takes; a host that dies holds its messages only until the lease runs out.

The lease length is the app setting LOCAL_HOST_QUEUE_LEASE_SECONDS (default: functionTimeout): short in
a crash test, so the dead host's messages come back in seconds instead of minutes."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field

from azure.storage.queue import QueueClient, QueueMessage

from local.host.queue_rest import LeanQueue

log = logging.getLogger("local.host")
LEASE_SETTING = "LOCAL_HOST_QUEUE_LEASE_SECONDS"


def lease_seconds(function_timeout: float) -> int:
    raw = os.environ.get(LEASE_SETTING, "").strip()
    return max(1, int(float(raw))) if raw else max(1, int(function_timeout))


@dataclass
class _Lease:
    receipt: str
    expires: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class Leases:
    """Pop receipts of the messages being processed; `renew_due()` extends the ones past half time.
    Each message's receipt changes on renewal, so deletes and updates go through `with_receipt`."""

    def __init__(self, queue: QueueClient | LeanQueue, seconds: int) -> None:
        self.queue, self.seconds = queue, seconds
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def hold(self, message: QueueMessage) -> None:
        with self._lock:
            self._leases[message.id] = _Lease(str(message.pop_receipt), time.monotonic() + self.seconds)

    def finish(self, message_id: str, action: str, visibility_timeout: int = 0) -> None:
        """Delete the message ("delete") or make it visible again after a delay ("release")."""
        with self._lock:
            lease = self._leases.pop(message_id, None)
        if lease is None:
            return
        with lease.lock:  # never at the same time as a renewal of the same message
            if action == "delete":
                self.queue.delete_message(message_id, lease.receipt)
            else:
                self.queue.update_message(message_id, lease.receipt, visibility_timeout=visibility_timeout)

    def renew_due(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [(i, lease) for i, lease in self._leases.items() if lease.expires - now < self.seconds / 2]
        for message_id, lease in due:
            with lease.lock:
                with self._lock:
                    if self._leases.get(message_id) is not lease:
                        continue  # finished meanwhile
                try:
                    answer = self.queue.update_message(
                        message_id, lease.receipt, visibility_timeout=self.seconds
                    )
                except Exception as error:  # it will be delivered again; the idempotent push copes
                    log.warning("message %s: could not renew its lease: %s", message_id, error)
                    continue
                lease.receipt, lease.expires = str(answer.pop_receipt), time.monotonic() + self.seconds

    def run_renewals(self, stop: threading.Event) -> None:
        while not stop.wait(min(1.0, self.seconds / 4)):
            self.renew_due()
