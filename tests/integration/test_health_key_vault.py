"""GET /api/health on the first start, when App Service has not resolved a Key Vault reference yet: 503
degraded, naming the setting and why, while storage answers (real Azurite, through the trigger)."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from tests.app_index import user_function
from tests.support.stack import forget_app, install_app

REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-abc123.vault.azure.net/secrets/token-encryption-keys)"


def _health() -> tuple[int, dict]:
    install_app()
    try:
        response = user_function("health")(func.HttpRequest("GET", "http://localhost/api/health", body=b""))
    finally:
        forget_app()
    return response.status_code, json.loads(response.get_body())


def test_an_unresolved_reference_makes_health_degraded_and_names_it(
    storage_connection: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN the literal reference App Service passes on when it cannot read the secret
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", REFERENCE)
    # WHEN the health check is asked
    status, body = _health()
    # THEN it is degraded because of that setting alone, and says why (names only, never values)
    assert status == 503 and body["status"] == "degraded"
    assert body["checks"]["queues"]["ok"] and body["checks"]["tables"]["ok"]
    key_vault = body["checks"]["key_vault"]
    assert key_vault["ok"] is False and key_vault["unresolved"] == ["TOKEN_ENCRYPTION_KEYS"]
    assert "Key Vault Secrets User" in key_vault["reason"]
    assert "kv-abc123" not in json.dumps(body)
    # AND the worker's log says the same at start-up
    assert any("TOKEN_ENCRYPTION_KEYS" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


def test_resolved_references_keep_health_ok(storage_connection: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", "k1:" + "A" * 43 + "=")
    status, body = _health()
    assert status == 200 and body["checks"]["key_vault"] == {"ok": True}
