"""POST /api/xero/webhook through its trigger: Xero's signature rules (developer.xero.com "Webhooks —
configuring your server"; xero-webhooks.yaml 16.1.0): 200 with an empty body for the right signature,
401 otherwise, and only invoice ids on the queue. Each attack is performed and must fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from shared import bootstrap
from shared.xero_inbound.intake import accept_xero_webhook
from shared.xero_inbound.messages import MAX_IDS, BadMessage, XeroInvoicesMessage
from shared.xero_inbound.signature import sign
from tests.app_index import user_function
from tests.support.stack import forget_app, install_app

KEY = "unit-xero-webhook-key"
TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
OTHER_TENANT = "aef86862-2015-4b6b-88bc-d89032cecc50"
INVOICE = "55d84274-a3da-4829-a7c0-0cab601b95cc"


def _event(category: str, resource: str, tenant: str = TENANT) -> dict[str, Any]:
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource}",
        "resourceId": resource,
        "eventDateUtc": "2024-06-21T01:15:39.902",
        "eventType": "UPDATE",
        "eventCategory": category,
        "tenantId": tenant,
        "tenantType": "ORGANISATION",
    }


def _body(events: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"events": events, "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "S0m3r4Nd0mt3xt"}
    ).encode()


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_message(self, body: str) -> None:
        self.sent.append(body)


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeQueue]:
    fake = FakeQueue()
    monkeypatch.setenv("XERO_WEBHOOK_KEY", KEY)
    install_app(xero_events_queue=fake)
    yield fake
    forget_app()


def _post(body: bytes, signature: str | None) -> func.HttpResponse:
    headers = {"x-xero-signature": signature} if signature is not None else {}
    request = func.HttpRequest("POST", "/api/xero/webhook", headers=headers, body=body)
    response: func.HttpResponse = user_function("xero_webhook")(request)
    return response


def test_a_correctly_signed_batch_is_answered_200_empty_and_queues_invoice_ids_only(queue: FakeQueue) -> None:
    body = _body([_event("INVOICE", INVOICE), _event("CONTACT", OTHER_TENANT), _event("INVOICE", INVOICE)])
    response = _post(body, sign(body, KEY))
    assert (response.status_code, response.get_body()) == (200, b"")
    [message] = [XeroInvoicesMessage.from_json(m) for m in queue.sent]
    assert (message.tenant_id, message.invoice_ids) == (TENANT, (INVOICE,))
    assert "resourceUrl" not in queue.sent[0] and "eventDateUtc" not in queue.sent[0]


def test_intent_to_receive_is_200_for_the_signed_empty_list_and_401_for_the_wrongly_signed(
    queue: FakeQueue,
) -> None:
    body = _body([])
    assert (_post(body, sign(body, KEY)).status_code, queue.sent) == (200, [])
    wrong = _post(body, sign(body, KEY + "-wrong"))
    assert (wrong.status_code, wrong.get_body(), queue.sent) == (401, b"", [])


@pytest.mark.parametrize(
    "signature",
    [None, "", "not base64 at all", sign(b"another body", KEY), sign(_body([]), KEY), "A" * 5000],
    ids=["missing", "empty", "garbage", "signature-of-another-body", "replayed-signature", "huge"],
)
def test_a_forged_or_replayed_signature_is_refused_and_queues_nothing(
    queue: FakeQueue, signature: str | None
) -> None:
    body = _body([_event("INVOICE", INVOICE)])
    response = _post(body, signature)
    assert (response.status_code, response.get_body(), queue.sent) == (401, b"", [])


def test_a_signed_body_altered_in_transit_is_refused(queue: FakeQueue) -> None:
    body = _body([_event("INVOICE", INVOICE)])
    signature = sign(body, KEY)
    altered = body.replace(TENANT.encode(), OTHER_TENANT.encode())
    assert _post(altered, signature).status_code == 401
    assert queue.sent == []


def test_a_replayed_body_is_accepted_again_but_queues_only_ids(queue: FakeQueue) -> None:
    # Xero re-sends a batch it got no 200 for; a replay can only make the worker read Xero's current state.
    body = _body([_event("INVOICE", INVOICE)])
    assert [_post(body, sign(body, KEY)).status_code for _ in range(2)] == [200, 200]
    assert [XeroInvoicesMessage.from_json(m).invoice_ids for m in queue.sent] == [(INVOICE,), (INVOICE,)]


def test_without_a_configured_key_every_webhook_is_refused() -> None:
    body = _body([])
    sent: list[Any] = []
    for key_used in ("", "anything"):
        answer = accept_xero_webhook(body, sign(body, key_used), "", sent.append, bootstrap.utc_now)
        assert answer.status == 401
    assert sent == []


def test_events_are_grouped_per_organisation_in_messages_of_at_most_fifty_ids() -> None:
    ids = [f"00000000-0000-0000-0000-{n:012d}" for n in range(120)]
    body = _body([_event("INVOICE", i) for i in ids] + [_event("INVOICE", INVOICE, OTHER_TENANT)])
    sent: list[XeroInvoicesMessage] = []
    answer = accept_xero_webhook(body, sign(body, KEY), KEY, sent.append, bootstrap.utc_now)
    assert answer.status == 200
    assert [(m.tenant_id, len(m.invoice_ids)) for m in sent] == [
        (TENANT, 50),
        (TENANT, 50),
        (TENANT, 20),
        (OTHER_TENANT, 1),
    ]


def test_a_storage_outage_is_answered_so_that_xero_sends_again() -> None:
    body = _body([_event("INVOICE", INVOICE)])

    def broken(_: XeroInvoicesMessage) -> None:
        raise ConnectionError("queue unreachable")

    assert accept_xero_webhook(body, sign(body, KEY), KEY, broken, bootstrap.utc_now).status == 503


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"kind":"invoice","tenant_id":"x"}',
        json.dumps({"kind": "xero-invoices", "tenant_id": TENANT, "invoice_ids": ["' or 1 eq 1"]}).encode(),
        json.dumps(
            {"kind": "xero-invoices", "tenant_id": TENANT, "invoice_ids": [INVOICE] * (MAX_IDS + 1)}
        ).encode(),
        json.dumps({"kind": "xero-invoices", "tenant_id": "../other", "invoice_ids": [INVOICE]}).encode(),
    ],
)
def test_a_queue_message_that_is_not_ids_is_refused(raw: bytes) -> None:
    with pytest.raises(BadMessage):
        XeroInvoicesMessage.from_json(raw)
