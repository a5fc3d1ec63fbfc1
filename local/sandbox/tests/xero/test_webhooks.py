"""Webhooks out: batched INVOICE/CONTACT events signed with the webhook key; payments fire INVOICE UPDATE."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from local.sandbox.common import ServerThread
from local.sandbox.tests.xero.conftest import XeroClient, created, http, invoice

KEY = "webhook-key-for-tests"


class Receiver:
    """A webhook endpoint that verifies signatures like the connector must (200 good, 401 bad)."""

    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server = ServerThread(self.app).start()

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        expected = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
        good = hmac.compare_digest(expected, request.headers.get("x-xero-signature", ""))
        if good:
            with self.lock:
                self.batches.append(json.loads(body))
        return Response(status=200 if good else 401)(environ, start_response)

    def events(self, count: int, timeout: float = 3.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [e for b in self.batches for e in b["events"]]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return found


@pytest.fixture
def receiver(xero: XeroClient) -> Iterator[Receiver]:
    r = Receiver()
    http().put(
        f"{xero.sandbox.url}/_sandbox/webhooks",
        json={"url": f"{r.server.url}/xero/webhook", "key": KEY},
        timeout=5,
    )
    yield r
    r.server.stop()


def test_created_invoice_and_contact_arrive_signed_and_batched(xero: XeroClient, receiver: Receiver) -> None:
    made = created(xero.put("Invoices", {"Invoices": [invoice(contact="Hooked Ltd")]}))
    events = receiver.events(2)
    assert {(e["eventCategory"], e["eventType"]) for e in events} == {
        ("CONTACT", "CREATE"),
        ("INVOICE", "CREATE"),
    }
    invoice_event = next(e for e in events if e["eventCategory"] == "INVOICE")
    assert invoice_event["resourceId"] == made["InvoiceID"] and invoice_event["tenantId"] == xero.tenant_id
    assert invoice_event["resourceUrl"].endswith(f"/api.xro/2.0/Invoices/{made['InvoiceID']}")
    batch = receiver.batches[0]
    assert batch["lastEventSequence"] - batch["firstEventSequence"] + 1 == len(batch["events"])
    assert len(batch["entropy"]) == 20


def test_a_payment_fires_invoice_update(xero: XeroClient, receiver: Receiver) -> None:
    made = created(xero.put("Invoices", {"Invoices": [invoice(status="AUTHORISED")]}))
    paid = http().post(
        f"{xero.sandbox.url}/_sandbox/orgs/{xero.tenant_id}/Invoices/{made['InvoiceID']}/pay",
        json={},
        timeout=5,
    )
    assert paid.json()["Status"] == "PAID"
    events = receiver.events(3)
    assert ("INVOICE", "UPDATE", made["InvoiceID"]) in {
        (e["eventCategory"], e["eventType"], e["resourceId"]) for e in events
    }


def test_intent_to_receive_handshake(xero: XeroClient, receiver: Receiver) -> None:
    answer = http().post(f"{xero.sandbox.url}/_sandbox/webhooks/intent", timeout=5).json()
    assert answer == {"signed_status": 200, "wrongly_signed_status": 401, "passed": True}
