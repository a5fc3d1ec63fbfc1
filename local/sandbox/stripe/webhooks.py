"""Events out, signed the way Stripe signs them (https://docs.stripe.com/webhooks#verify-manually):
header `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 keyed with the endpoint secret over
"<t>.<raw JSON body>">`. Written here from the documentation, independently of stripe-python's verifier,
so the product's use of that verifier is checked against a second implementation.

Delivered one at a time from a background thread in the order they happened (Stripe does not promise
an order; tests that need disorder or duplicates use `redeliver`). A delivery that does not get a 2xx is
retried a few times, as Stripe retries (https://docs.stripe.com/webhooks#retries; Stripe keeps trying for
up to three days, the stand-in for a few seconds)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger(__name__)
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookDispatcher:
    def __init__(self, url: str | None = None, secret: str = "") -> None:
        self.url, self.secret = url, secret
        self.deliveries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="stripe-standin-webhooks", daemon=True)
        self._thread.start()

    def configure(self, url: str | None, secret: str) -> None:
        with self._lock:
            self.url, self.secret = url, secret

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            if not self.url:
                return
            self._pending += 1
        self._queue.put(event)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        self._queue.put(None)

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self._deliver(event)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver(self, event: dict[str, Any]) -> None:
        body = json.dumps(event, indent=2).encode()
        for delay in (*RETRY_DELAYS, None):
            with self._lock:
                url, secret = self.url, self.secret
            if not url:
                return
            status = self._post(url, body, secret)
            self.deliveries.append({"event": event["id"], "type": event["type"], "status": status})
            if 200 <= status < 300 or delay is None:
                return
            time.sleep(delay)

    def _post(self, url: str, body: bytes, secret: str) -> int:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature_header(body, secret, int(time.time())),
        }
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with _OPENER.open(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError as error:
            log.info("webhook %s to %s failed: %s", event_id(body), url, error)
            return 0


def event_id(body: bytes) -> str:
    try:
        return str(json.loads(body).get("id", "?"))
    except ValueError:
        return "?"
