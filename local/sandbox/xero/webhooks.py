"""Webhooks out: INVOICE and CONTACT CREATE/UPDATE events, batched like Xero's
`{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}` and signed with
x-xero-signature = base64(HMAC-SHA256(raw body, webhook key)). Delivered from a background thread;
every attempt is recorded for GET /_sandbox/webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import random
import string
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)
# Deliveries go to the URL the tester set, never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
BATCH_WINDOW_SECONDS = 0.1
MAX_BATCH = 50


def sign(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


class WebhookDispatcher:
    def __init__(self) -> None:
        self.url: str | None = None
        self.key: str = ""
        self.deliveries: list[dict[str, Any]] = []
        # Lost deliveries on demand (to prove the connector's sweep): the next N events, and/or a share of
        # all events, are never sent. Xero re-sends a delivery that got no acceptable answer "with
        # decreasing frequency for up to 24 hours", then disables the webhook (developer.xero.com/
        # documentation/webhooks/configuring-your-server), so events can be lost for good. This sandbox
        # does not re-send (unverified timing, stricter): a late or failed answer loses the batch.
        self.drop_next = 0
        self.drop_rate = 0.0
        self.dropped: list[str] = []  # resource ids of the events dropped
        self._sequence = 0
        self._lock = threading.Lock()
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="xero-sandbox-webhooks", daemon=True)
        self._thread.start()

    def configure(self, url: str | None, key: str) -> None:
        with self._lock:
            self.url, self.key = url, key

    def set_drops(self, drop_next: int | None = None, drop_rate: float | None = None) -> None:
        with self._lock:
            if drop_next is not None:
                self.drop_next = max(0, int(drop_next))
            if drop_rate is not None:
                self.drop_rate = min(1.0, max(0.0, float(drop_rate)))

    def settings(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "key_set": bool(self.key),
            "deliveries": list(self.deliveries),
            "drop_next": self.drop_next,
            "drop_rate": self.drop_rate,
            "dropped": list(self.dropped),
        }

    def publish(
        self,
        base_url: str,
        tenant_id: str,
        category: str,
        event_type: str,
        resource_id: str,
        moment: datetime,
    ) -> None:
        if not self.url or self._dropped(resource_id):
            return
        collection = {"INVOICE": "Invoices", "CONTACT": "Contacts"}[category]
        self._queue.put(
            {
                "resourceUrl": f"{base_url}/api.xro/2.0/{collection}/{resource_id}",
                "resourceId": resource_id,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
                "eventCategory": category,
                "eventType": event_type,
                "eventDateUtc": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            }
        )

    def _dropped(self, resource_id: str) -> bool:
        with self._lock:
            if self.drop_next > 0:
                self.drop_next -= 1
            elif not (self.drop_rate and random.random() < self.drop_rate):  # noqa: S311 - a test fault
                return False
            self.dropped.append(resource_id)
            return True

    def intent_to_receive(self) -> list[int]:
        """Xero's handshake: a correctly signed and a wrongly signed empty batch; expect 200 then 401."""
        good = self._deliver([], sign_with=self.key)
        bad = self._deliver([], sign_with=self.key + "-wrong")
        return [good, bad]

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            try:
                while len(batch) < MAX_BATCH:
                    nxt = self._queue.get(timeout=BATCH_WINDOW_SECONDS)
                    if nxt is None:
                        self._deliver(batch, self.key)
                        return
                    batch.append(nxt)
            except queue.Empty:
                pass
            self._deliver(batch, self.key)

    def _deliver(self, events: list[dict[str, Any]], sign_with: str) -> int:
        with self._lock:
            url = self.url
            first = self._sequence + 1
            self._sequence += len(events)
        if not url:
            return 0
        entropy = "".join(random.choices(string.ascii_uppercase, k=20))
        body = json.dumps(
            {
                "events": events,
                "firstEventSequence": first if events else 0,
                "lastEventSequence": self._sequence if events else 0,
                "entropy": entropy,
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the tester sets an http(s) URL
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "x-xero-signature": sign(body, sign_with)},
        )
        status, error = 0, ""
        try:
            with _OPENER.open(request, timeout=5) as answer:
                status = answer.status
        except urllib.error.HTTPError as failure:
            status = failure.code
        except OSError as failure:
            error = str(failure)
            log.warning("webhook delivery to %s failed: %s", url, failure)
        self.deliveries.append({"status": status, "events": len(events), "error": error})
        return status
