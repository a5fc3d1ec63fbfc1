"""Fixtures every layer shares: a real Azurite for the whole run, fresh queue and table names per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.azurite import Azurite, start_azurite

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = Path(os.environ.get("REFERENCE_DIR", PROJECT_ROOT.parent / "shared" / "reference"))


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    log = tmp_path_factory.mktemp("azurite") / "azurite.log"
    server = start_azurite(log_path=log)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def storage_connection(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> str:
    """The Azurite connection string, also set as AzureWebJobsStorage for code that reads settings."""
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    return azurite.connection_string


@pytest.fixture
def unique_name() -> str:
    """A queue/table-safe name no other test uses (lowercase letters and digits)."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference (or REFERENCE_DIR): Xero's specs and Microsoft's webhook samples.

    Fails loudly when missing: a contract test that silently skips would prove nothing."""
    if not (REFERENCE_DIR / "xero" / "xero_accounting.yaml").exists():
        pytest.fail(f"reference material not found at {REFERENCE_DIR}; set REFERENCE_DIR")
    return REFERENCE_DIR


def reset_process_caches() -> None:
    """Forget the settings and every per-process collaborator, as a fresh worker would."""
    from local.stack import LocalStack

    LocalStack.forget_process_state()


@pytest.fixture
def app_env(
    storage_connection: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The app's settings for one test: real Azurite, its own tables and queues, fresh secrets."""
    from shared.crypto import generate_key

    env = {
        "TABLE_PREFIX": unique_name,
        "INVOICE_QUEUE": f"{unique_name}-invoices",
        "REFERENCE_QUEUE": f"{unique_name}-reference",
        "TOKEN_ENCRYPTION_KEYS": generate_key("t1"),
        "SESSION_SECRET": "test-session-secret-" + unique_name,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_process_caches()
    yield {**env, "AzureWebJobsStorage": storage_connection}
    reset_process_caches()
