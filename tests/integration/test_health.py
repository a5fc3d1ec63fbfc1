"""GET /api/health through the trigger function, against a real Azurite and against nothing."""

import json

import azure.functions as func
import pytest

from local.azurite import connection_string
from local.ports import free_port
from shared import __version__
from tests.app_index import user_function
from tests.support.stack import forget_app, install_app


def _call() -> func.HttpResponse:
    install_app()
    request = func.HttpRequest("GET", "http://localhost/api/health", body=b"")
    try:
        return user_function("health")(request)
    finally:
        forget_app()


def test_ok_when_queues_and_tables_answer(storage_connection: str) -> None:
    response = _call()
    body = json.loads(response.get_body())
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["checks"]["queues"]["ok"] and body["checks"]["tables"]["ok"]


def test_degraded_with_503_when_storage_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = free_port()  # nothing listens there
    monkeypatch.setenv("AzureWebJobsStorage", connection_string(nowhere, nowhere, nowhere))
    response = _call()
    body = json.loads(response.get_body())
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["checks"]["queues"]["ok"] is False and body["checks"]["tables"]["ok"] is False
    assert "AccountKey" not in response.get_body().decode()
