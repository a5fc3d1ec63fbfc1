"""POST /api/dynamics/webhook through its trigger function, on a real Azurite: key, envelope, queue."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import azure.functions as func
import pytest

from shared import bootstrap
from shared.store.models import Connection
from shared.sync.events import InvoiceEvent
from tests.app_index import user_function

EVENTS = Path(__file__).resolve().parents[1] / "events"
SAMPLE_ORG = "1c0ffee0-4a5b-4c6d-8e7f-0123456789ab"  # OrganizationId of tests/events/*.json


@pytest.fixture
def connection(app_env: dict[str, str]) -> tuple[Connection, str]:
    store = bootstrap.worker().connections()
    created = store.create("account-1", "Test connection")
    key = f"{created.id}.{secrets.token_urlsafe(32)}"

    def connect(c: Connection) -> None:
        c.status = "active"
        c.dynamics.organisation_id = SAMPLE_ORG

    store.update(created.id, connect)
    return store.set_webhook_key(created.id, key), key


def _post(body: bytes, key: str | None = None, headers: dict[str, str] | None = None) -> func.HttpResponse:
    params = {"code": key} if key is not None else {}
    request = func.HttpRequest(
        "POST", "http://localhost/api/dynamics/webhook", params=params, headers=headers or {}, body=body
    )
    return user_function("dynamics_webhook")(request)


def _queued() -> list[InvoiceEvent]:
    messages = bootstrap.worker().invoice_queue().receive_messages(max_messages=32, visibility_timeout=30)
    return [InvoiceEvent.from_json(m.content) for m in messages]


def _event(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def test_invoice_update_is_queued_with_ids_only(connection: tuple[Connection, str]) -> None:
    row, key = connection
    response = _post(_event("invoice_update.json"), key)
    assert response.status_code == 202
    assert json.loads(response.get_body())["status"] == "queued"
    [event] = _queued()
    assert event.connection_id == row.id
    assert event.invoice_id == "8a1d4c62-3b7e-4f0a-9c55-2e6f1b7d9a01"
    assert event.correlation_id and event.received_at
    # ids only: nothing of the invoice's contents travels on the queue
    assert "Kauri" not in event.to_json()


def test_key_in_a_header_works_too(connection: tuple[Connection, str]) -> None:
    _, key = connection
    assert _post(_event("invoice_create.json"), headers={"x-webhook-key": key}).status_code == 202
    assert len(_queued()) == 1


def test_a_line_change_is_queued_for_its_invoice(connection: tuple[Connection, str]) -> None:
    _, key = connection
    assert _post(_event("invoicedetail_update.json"), key).status_code == 202
    [event] = _queued()
    assert event.invoice_id is not None


def test_size_exceeded_line_change_is_queued_by_line(connection: tuple[Connection, str]) -> None:
    _, key = connection
    headers = {"x-ms-dynamics-msg-size-exceeded": "true"}
    assert _post(_event("invoicedetail_update_size_exceeded.json"), key, headers).status_code == 202
    [event] = _queued()
    assert event.invoice_id is not None or event.line_id is not None


@pytest.mark.parametrize("key", [None, "", "not-a-key", "00000000-0000-0000-0000-000000000000.wrong"])
def test_missing_or_wrong_key_is_401_and_nothing_is_queued(
    connection: tuple[Connection, str], key: str | None
) -> None:
    response = _post(_event("invoice_update.json"), key)
    assert response.status_code == 401
    assert _queued() == []


def test_right_connection_wrong_secret_is_401(connection: tuple[Connection, str]) -> None:
    row, key = connection
    assert _post(_event("invoice_update.json"), f"{row.id}.{secrets.token_urlsafe(32)}").status_code == 401
    assert _queued() == []


def test_our_own_write_back_is_ignored(connection: tuple[Connection, str]) -> None:
    _, key = connection
    response = _post(_event("invoice_update_write_back.json"), key)
    assert response.status_code == 202
    assert json.loads(response.get_body())["status"] == "ignored"
    assert _queued() == []


@pytest.mark.parametrize(
    "sample",
    [
        "ms-docs-use-webhooks-contact-update-async.json",
        "ms-docs-contact-center-presence-msdyn_agentstatus-update.json",
    ],
)
def test_microsoft_samples_parse_and_are_ignored_with_a_reason(
    app_env: dict[str, str], webhook_samples_dir: Path, sample: str
) -> None:
    body = (webhook_samples_dir / sample).read_bytes()
    organisation = json.loads(body)["OrganizationId"]
    store = bootstrap.worker().connections()
    created = store.create("account-1")
    store.update(created.id, lambda c: setattr(c.dynamics, "organisation_id", organisation))
    key = f"{created.id}.{secrets.token_urlsafe(32)}"
    store.set_webhook_key(created.id, key)
    response = _post(body, key)
    answer = json.loads(response.get_body())
    assert response.status_code == 202
    assert answer["status"] == "ignored" and "not handled" in answer["reason"]
    assert _queued() == []


def test_another_organisation_is_refused(connection: tuple[Connection, str]) -> None:
    _, key = connection
    body = _event("invoice_update.json").replace(SAMPLE_ORG.encode(), b"99999999-4a5b-4c6d-8e7f-0123456789ab")
    response = _post(body, key)
    assert response.status_code == 403
    assert json.loads(response.get_body())["field"] == "OrganizationId"
    assert _queued() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"MessageName": "Update", "PrimaryEntityName": "invoice"}', "PrimaryEntityId"),
        (
            b'{"MessageName": "Update", "PrimaryEntityName": "invoice", "PrimaryEntityId": "x", '
            b'"OrganizationId": "1c0ffee0-4a5b-4c6d-8e7f-0123456789ab"}',
            "PrimaryEntityId",
        ),
    ],
)
def test_malformed_body_is_400_naming_the_field(
    connection: tuple[Connection, str], body: bytes, field: str
) -> None:
    _, key = connection
    response = _post(body, key)
    answer = json.loads(response.get_body())
    assert response.status_code == 400
    assert answer["field"] == field and answer["error"]
    assert _queued() == []


def test_oversize_body_is_413(connection: tuple[Connection, str]) -> None:
    _, key = connection
    assert _post(b" " * (1024 * 1024 + 1), key).status_code == 413
    assert _queued() == []


def test_a_body_announced_over_the_limit_is_refused_before_it_is_read(
    connection: tuple[Connection, str],
) -> None:
    # issue 16: the Content-Length alone decides; the (small, valid) body is never parsed or queued
    _, key = connection
    response = _post(_event("invoice_update.json"), key, headers={"content-length": str(8 * 1024 * 1024)})
    assert response.status_code == 413 and _queued() == []
    assert response.headers.get("X-Content-Type-Options") == "nosniff"  # JSON answers are never sniffed
