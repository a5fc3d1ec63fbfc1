"""The fixtures the tests share (a pytest plugin: tests/conftest.py's pytest_plugins). The sandboxes' own
fixtures (`sb`, `xero_sandbox`: one server each, reset for every test) are local/sandbox/fixtures.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from local.azurite import Azurite
from local.sandbox.dataverse import DataverseSandbox
from local.sandbox.xero import XeroSandbox
from shared.config import Settings
from shared.crypto import generate_key
from shared.http import make_session
from tests.browser.portal_stack import Portal, running_portal
from tests.support.dataverse_sign_in import settings_for


def _store_env(storage_connection: str, unique_name: str) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": storage_connection,
        "TABLE_PREFIX": unique_name,
        "TOKEN_ENCRYPTION_KEYS": generate_key("k1"),
        "SESSION_SECRET": "test-session-secret",
        "WEBHOOK_KEY_SECRETS": "t1:test-webhook-key-secret-0123456789abcdef",
    }


@pytest.fixture
def store_settings(storage_connection: str, unique_name: str) -> Settings:
    """Settings for the stores alone: the run's Azurite, tables of this test's own, fresh secrets."""
    return Settings.from_env(_store_env(storage_connection, unique_name))


@pytest.fixture
def xero_settings(storage_connection: str, unique_name: str, xero_sandbox: XeroSandbox) -> Settings:
    """The stores' settings, and the sandbox Xero as Xero (its app's client id and secret)."""
    return Settings.from_env(
        {
            **_store_env(storage_connection, unique_name),
            "XERO_CLIENT_ID": "sandbox-xero-client",
            "XERO_CLIENT_SECRET": "sandbox-xero-secret",
            "XERO_LOGIN_URL": xero_sandbox.url,
            "XERO_IDENTITY_URL": xero_sandbox.url,
            "XERO_API_URL": xero_sandbox.url,
            "HTTP_TIMEOUT_SECONDS": "5",
        }
    )


@pytest.fixture
def dataverse_settings(sb: DataverseSandbox) -> Settings:
    """Settings that point MSAL, Global Discovery and the TLS trust at the sandbox Dataverse."""
    return settings_for(sb)


@pytest.fixture
def dataverse_session(dataverse_settings: Settings) -> requests.Session:
    return make_session(dataverse_settings)


@pytest.fixture(scope="module")
def portal(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The portal served by the local host in this process, with its own SMTP sink and tables."""
    with running_portal(azurite, tmp_path_factory.mktemp("portal")) as running:
        yield running
