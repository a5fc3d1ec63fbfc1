"""Fixtures every layer shares: a real Azurite for the whole run, fresh queue and table names per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from local.azurite import Azurite, start_azurite
from tests import reference_material
from tests.support.stack import forget_app, install_app

# Every answer the sandbox Xero gives in the run is checked against Xero's contract at its end; the
# sandboxes' fixtures and the fixtures the tests share come from one module each.
pytest_plugins = [
    "tests.xero_contract_plugin",
    "tests.support.reference_fixtures",
    "local.sandbox.fixtures",
    "tests.support.fixtures",
]


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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reference-only",
        action="store_true",
        help="run only the tests that use reference material (tests/test_fresh_clone.py runs these)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--reference-only"):
        return
    keep = [item for item in items if reference_material.uses_material(item)]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's last line: tests skipped for want of reference material, and how to get it."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    reasons = [str(report.longrepr[2]) for report in skipped if isinstance(report.longrepr, tuple)]
    line = reference_material.summary(reasons, len(reference_material.UNCHECKED_AGAINST_XERO_SPEC))
    if line:
        reporter.write_line(line, yellow=True, bold=True)


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
        "INSTALL_QUEUE": f"{unique_name}-install",
        "TOKEN_ENCRYPTION_KEYS": generate_key("t1"),
        "SESSION_SECRET": "test-session-secret-" + unique_name,
        "WEBHOOK_KEY_SECRETS": "t1:test-webhook-key-secret-" + unique_name + "-0123456789abcdef",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    install_app()  # the triggers this test calls get an app built from these settings (shared/bootstrap.py)
    yield {**env, "AzureWebJobsStorage": storage_connection}
    forget_app()
