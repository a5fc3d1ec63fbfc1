"""Queue triggers on Azure Storage (Azurite locally) with the Functions host's semantics:
base64 bodies, batchSize / newBatchThreshold, visibilityTimeout after a failure, maxDequeueCount then
`<queue>-poison`, a polling interval that backs off up to maxPollingInterval when the queue is idle, and
leases renewed while an invocation runs (leases.py)."""

from __future__ import annotations

import base64
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.functions.queue import QueueMessage as FunctionQueueMessage
from azure.storage.queue import QueueClient, QueueMessage

from local.host.app_settings import resolve_setting_expression
from local.host.errors import HostStartupError
from local.host.host_json import QueueOptions
from local.host.index import FunctionSpec
from local.host.invoker import Invoker
from local.host.leases import Leases, lease_seconds
from local.host.queue_rest import lean_if_possible

log = logging.getLogger("local.host")
MIN_POLL_SECONDS = 0.1


def _queue_client(connection_setting: str, queue_name: str) -> QueueClient:
    connection = os.environ.get(connection_setting or "AzureWebJobsStorage", "")
    if not connection:
        raise HostStartupError(f"queue trigger on {queue_name}: app setting {connection_setting} is not set")
    if connection == "UseDevelopmentStorage=true":
        from local.azurite import connection_string

        connection = connection_string(10000, 10001, 10002)
    # use_env_settings=False: no proxy or ~/.netrc lookup on every poll of a local queue
    return QueueClient.from_connection_string(connection, queue_name, use_env_settings=False)


class QueueListener:
    def __init__(self, spec: FunctionSpec, options: QueueOptions, invoker: Invoker, function_timeout: float):
        self.spec = spec
        self.options = options
        self.invoker = invoker
        self.lease_seconds = lease_seconds(function_timeout)
        self.queue_name = resolve_setting_expression(spec.trigger["queueName"]).lower()
        setting = spec.trigger.get("connection") or "AzureWebJobsStorage"
        self.queue = lean_if_possible(_queue_client(setting, self.queue_name))
        self.poison = _queue_client(setting, f"{self.queue_name}-poison")
        self.leases = Leases(self.queue, self.lease_seconds)
        self._stop = threading.Event()
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=options.batch_size + options.threshold, thread_name_prefix=f"queue-{self.queue_name}"
        )
        self._thread = threading.Thread(target=self._run, name=f"poll-{self.queue_name}", daemon=True)
        self._renewer = threading.Thread(
            target=self.leases.run_renewals, args=(self._stop,), name=f"lease-{self.queue_name}", daemon=True
        )

    def start(self) -> None:
        for client in (self.queue, self.poison):
            try:
                client.create_queue()
            except ResourceExistsError:
                pass
        self._thread.start()
        self._renewer.start()

    def stop(self) -> None:
        """Stop fetching; invocations already running finish (the caller waits on the invoker)."""
        self._stop.set()
        self._thread.join(timeout=30)
        self._pool.shutdown(wait=True)
        self._renewer.join(timeout=5)

    def _run(self) -> None:
        idle_wait = MIN_POLL_SECONDS
        while not self._stop.is_set():
            # Like the host: fetch a new batch only when in-flight work has dropped to newBatchThreshold.
            if self._busy():
                self._stop.wait(0.02)
                continue
            try:
                fetched = self._fetch_batch()
            except Exception as error:  # storage down: keep polling, say so once per attempt
                log.warning("queue %s: receive failed: %s", self.queue_name, error)
                fetched = 0
            if fetched:
                idle_wait = MIN_POLL_SECONDS
                continue
            self._stop.wait(idle_wait)
            idle_wait = min(idle_wait * 2, max(self.options.max_polling_interval, MIN_POLL_SECONDS))

    def _busy(self) -> bool:
        with self._in_flight_lock:
            return self._in_flight > self.options.threshold

    def _fetch_batch(self) -> int:
        messages = list(
            self.queue.receive_messages(
                messages_per_page=self.options.batch_size,
                max_messages=self.options.batch_size,
                visibility_timeout=self.lease_seconds,
            )
        )
        with self._in_flight_lock:
            self._in_flight += len(messages)
        for message in messages:
            self.leases.hold(message)
            self._pool.submit(self._process, message)
        return len(messages)

    def _process(self, message: QueueMessage) -> None:
        try:
            self._invoke(message)
        except Exception:  # a bug here must be seen, not lost inside the thread pool
            log.exception("queue %s: message %s could not be handled", self.queue_name, message.id)
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1

    def _invoke(self, message: QueueMessage) -> None:
        trigger_value = FunctionQueueMessage(
            id=message.id,
            body=self._decode(message.content),
            dequeue_count=message.dequeue_count,
            expiration_time=message.expires_on,
            insertion_time=message.inserted_on,
            time_next_visible=message.next_visible_on,
            pop_receipt=message.pop_receipt,
        )
        detail = f"queue={self.queue_name} id={message.id} dequeue_count={message.dequeue_count}"
        try:
            self.invoker.invoke(self.spec, trigger_value, detail)
        except Exception as error:
            self._after_failure(message, error)
            return
        self._delete(message)

    def _after_failure(self, message: QueueMessage, error: Exception) -> None:
        log.warning("Function %s failed on message %s: %s", self.spec.name, message.id, error)
        if (message.dequeue_count or 0) >= self.options.max_dequeue_count:
            log.warning(
                "Message %s has reached MaxDequeueCount of %s; moving it to %s-poison",
                message.id, self.options.max_dequeue_count, self.queue_name,
            )  # fmt: skip
            self.poison.send_message(message.content)
            self._delete(message)
            return
        try:
            self.leases.finish(message.id, "release", int(self.options.visibility_timeout))
        except Exception as update_error:  # the lease expires by itself; the message still comes back
            log.warning("message %s: could not release it early: %s", message.id, update_error)

    def _delete(self, message: QueueMessage) -> None:
        try:
            self.leases.finish(message.id, "delete")
        except Exception as error:
            log.warning("message %s: delete failed (it will be delivered again): %s", message.id, error)

    def _decode(self, content: Any) -> bytes:
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        if self.options.message_encoding == "base64":
            try:
                return base64.b64decode(raw, validate=True)
            except ValueError:
                log.warning("queue %s: a message is not base64; passing it as it is", self.queue_name)
        return raw
