"""Fires registered webhook steps like Dataverse's asynchronous service: after the change is committed,
in a background thread, in order per row. One more attempt only after 502/503/504; a 60 s timeout;
bodies over 256 KB lose InputParameters and images; Depth grows along a chain of correlated calls.

Every attempt is recorded for tests (GET /_sandbox/deliveries)."""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from .limits import Limits
from .records import Change, WriteContext
from .store import EnvironmentState, Row
from .webhook_body import drop_payload, remote_execution_context, serialize
from .webhook_steps import authenticated, matching_steps

log = logging.getLogger(__name__)
RETRIED_STATUSES = (502, 503, 504)


class WebhookDispatcher:
    def __init__(self, limits: Limits, organization_host: Callable[[], str]) -> None:
        self.limits = limits
        self.organization_host = organization_host
        self._lock = threading.Condition()
        self._queues: dict[str, deque[Callable[[], None]]] = {}
        self._outstanding = 0
        self._deliveries: list[dict[str, Any]] = []
        self._correlations: dict[str, int] = {}
        self._generation = 0  # reset() makes queued jobs of an older generation do nothing

    def depth_for(self, correlation_id: str | None) -> int | None:
        with self._lock:
            return self._correlations.get(correlation_id or "")

    def context_for(self, user_id: str, correlation_header: str | None) -> WriteContext:
        """A call carrying the CorrelationId of a webhook we fired continues that chain one level deeper."""
        parent_depth = self.depth_for(correlation_header)
        if parent_depth is not None and correlation_header:
            return WriteContext(user_id, correlation_header, parent_depth + 1)
        return WriteContext(user_id, str(uuid.uuid4()), 1)

    def publish(self, env: EnvironmentState, ctx: WriteContext) -> None:
        """Queue the steps the committed changes trigger. Call with env.lock held (reads step rows)."""
        for committed in ctx.changes:
            for change in self._as_fired(committed):
                for step, endpoint in matching_steps(env, change):
                    self._queue(env, change, step, endpoint, ctx)
        ctx.changes.clear()

    def _as_fired(self, change: Change) -> list[Change]:
        """The operations the change runs as: an Update of state and other columns is two, when asked."""
        state = {k: v for k, v in change.target.items() if k in ("statecode", "statuscode")}
        others = {k: v for k, v in change.target.items() if k not in state}
        business = set(others) - {"modifiedon", "modifiedby", change.table + "id"}
        if change.message != "Update" or not self.limits.webhook_split_state_updates or not state:
            return [change]
        if not business:
            return [change]
        common = {k: v for k, v in others.items() if k not in business}
        return [replace(change, target=others), replace(change, target={**common, **state})]

    def _queue(
        self, env: EnvironmentState, change: Change, step: Row, endpoint: Row, ctx: WriteContext
    ) -> None:
        record = {
            "environment": env.url_name,
            "step_id": step["sdkmessageprocessingstepid"],
            "message": change.message,
            "entity": change.table,
            "primary_entity_id": change.row_id,
            "correlation_id": ctx.correlation_id,
            "depth": ctx.depth,
        }
        if ctx.depth > self.limits.webhook_max_depth:
            self._record(
                {
                    **record,
                    "url": _public_url(endpoint.get("url") or ""),
                    "attempt": 0,
                    "status": None,
                    "error": "stopped: infinite loop protection (Depth > max)",
                    "body_size": 0,
                }
            )
            return
        if self._dropped():
            self._record({**record, "url": _public_url(endpoint.get("url") or ""), "attempt": 0,
                          "status": None, "error": "dropped (sandbox fault)", "body_size": 0})  # fmt: skip
            return
        body = remote_execution_context(env, change, step, ctx.correlation_id, ctx.depth)
        headers = {
            "Content-Type": "application/json",
            "x-ms-dynamics-organization": self.organization_host(),
            "x-ms-dynamics-entity-name": change.table,
            "x-ms-dynamics-request-name": change.message,
            "x-ms-correlation-request-id": ctx.correlation_id,
        }
        data = serialize(body)
        if len(data) > self.limits.webhook_max_body_bytes:
            data = serialize(drop_payload(body))
            headers["x-ms-dynamics-msg-size-exceeded"] = "true"
        url, auth_headers = authenticated(endpoint)
        headers.update(auth_headers)
        with self._lock:
            self._correlations[ctx.correlation_id] = max(
                ctx.depth, self._correlations.get(ctx.correlation_id, 0)
            )
            generation = self._generation
        job = lambda: self._deliver(generation, url, headers, data, record)  # noqa: E731
        self._enqueue(f"{env.url_name}/{change.row_id}", job)

    def _dropped(self) -> bool:
        with self._lock:
            if self.limits.webhook_drop_next > 0:
                self.limits.webhook_drop_next -= 1
                return True
        rate = self.limits.webhook_drop_rate
        return rate > 0 and random.random() < rate  # noqa: S311 - a test fault, not a secret

    def _enqueue(self, key: str, job: Callable[[], None]) -> None:
        if self.limits.webhook_shuffle_seconds > 0:  # no order: each delivery on its own, after a while
            key = f"{key}/{uuid.uuid4()}"
            wait = random.uniform(0, self.limits.webhook_shuffle_seconds)  # noqa: S311 - test timing
            job = _after(wait, job)
        with self._lock:
            self._outstanding += 1
            if key in self._queues:
                self._queues[key].append(job)
                return
            self._queues[key] = deque([job])
        threading.Thread(target=self._drain, args=(key,), name=f"webhook-{key}", daemon=True).start()

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                job = queue.popleft()
            try:
                job()
            except Exception:
                log.exception("webhook delivery failed unexpectedly")
            finally:
                with self._lock:
                    self._outstanding -= 1
                    self._lock.notify_all()

    def _deliver(
        self, generation: int, url: str, headers: dict[str, str], data: bytes, record: dict[str, Any]
    ) -> None:
        time.sleep(self.limits.scaled(self.limits.webhook_delay_seconds))
        for attempt in (1, 2):
            if generation != self._generation:
                return
            status, error, answer = self._post(url, headers, data)
            if generation != self._generation:  # reset while this call was out: not this run's delivery
                return
            self._record(
                {
                    **record,
                    "url": _public_url(url),
                    "attempt": attempt,
                    "status": status,
                    "error": error,
                    "answer": answer,
                    "body_size": len(data),
                    "size_exceeded": "x-ms-dynamics-msg-size-exceeded" in headers,
                }
            )
            if status not in RETRIED_STATUSES:
                return
            time.sleep(self.limits.scaled(self.limits.webhook_retry_delay_seconds))

    def _post(
        self, url: str, headers: dict[str, str], data: bytes
    ) -> tuple[int | None, str | None, str | None]:
        """(status, transport error, the answer's first 500 characters: kept for tests, as the System
        Jobs view shows a failed call's response)."""
        # A new connection for each delivery, as Dataverse's many senders do: a pooled one may be one the
        # receiver has just closed (the local host closes each after its answer), and a webhook that
        # fails to connect is not retried — the event would be lost to the sandbox, not to the connector.
        session = requests.Session()
        session.trust_env = False  # the receiver is local; no proxy, no machine-wide CA override
        try:
            response = session.post(
                url, data=data, headers=headers, timeout=self.limits.webhook_timeout_seconds
            )
            return response.status_code, None, response.text[:500]
        except requests.RequestException as exc:
            return None, type(exc).__name__, None
        finally:
            session.close()

    def _record(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._deliveries.append({"id": len(self._deliveries) + 1, "time": time.time(), **record})

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._deliveries)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._outstanding == 0, timeout)

    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            self._deliveries.clear()
            self._correlations.clear()


def _public_url(url: str) -> str:
    """The URL without its query: deliveries are listed without the webhook key."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _after(seconds: float, job: Callable[[], None]) -> Callable[[], None]:
    def later() -> None:
        time.sleep(seconds)
        job()

    return later
