"""The Xero token service against the sandbox Xero (real HTTP) and a real Azurite.

Each test connects a fresh connection through the sandbox's consent form, as a browser would, then expires
the access token (in the sandbox and in our row) so the next call must refresh. Refreshes are counted by
the sandbox (GET /_sandbox/requests)."""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from local.ports import free_port
from local.sandbox.xero import XeroSandbox
from shared.config import Settings
from shared.errors import ReconnectRequired, RetriableError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection
from shared.store.xero_tokens import REFUSED, XeroTokens
from shared.xero.oauth import TokenSet, XeroOAuth

WORKERS = 20
REDIRECT_URI = "http://127.0.0.1:7071/oauth/xero/callback"


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _service(xero_settings: Settings, **options: Any) -> XeroTokens:
    """One worker process: its own store client, HTTP session and token service."""
    oauth = XeroOAuth(_session(), xero_settings)
    return XeroTokens(ConnectionStore.from_settings(xero_settings), oauth, **options)


def _consent(xero_settings: Settings) -> str:
    """Walk the sandbox consent page like a browser: open it, allow the first organisation; the code."""
    browser = _session()
    page = browser.get(XeroOAuth(browser, xero_settings).authorize_url("st4te", REDIRECT_URI), timeout=5)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    tenant = re.findall(r'name="tenant" value="([^"]+)"', page.text)[0]
    answer = browser.post(
        f"{xero_settings.xero_login_url}/identity/connect/authorize",
        data={**form, "tenant": tenant, "decision": "allow"},
        allow_redirects=False,
        timeout=5,
    )
    query = parse_qs(urlparse(answer.headers["Location"]).query)
    assert query["state"] == ["st4te"]
    return query["code"][0]


@pytest.fixture
def expired_connection(xero_settings: Settings, xero_sandbox: XeroSandbox) -> Connection:
    """A connection signed in through the consent page, whose access token has just expired."""
    store = ConnectionStore.from_settings(xero_settings)
    connection = store.create("account-1")
    oauth = XeroOAuth(_session(), xero_settings)
    tokens = oauth.exchange_code(_consent(xero_settings), REDIRECT_URI)
    (tenant,) = oauth.list_connections(tokens.access_token)
    _service(xero_settings).save_grant(connection.id, tokens, tenant)

    _session().post(f"{xero_sandbox.url}/_sandbox/tokens/expire", timeout=5)
    store.update(connection.id, lambda c: setattr(c.xero, "access_token_expires_at", datetime.now(UTC)))
    _session().post(f"{xero_sandbox.url}/_sandbox/requests/reset", timeout=5)
    return store.require(connection.id)


def _token_calls(xero_sandbox: XeroSandbox) -> int:
    counts = _session().get(f"{xero_sandbox.url}/_sandbox/requests", timeout=5).json()
    return sum(c["count"] for c in counts if c["method"] == "POST" and c["path"] == "/connect/token")


def _works_in_xero(xero_settings: Settings, access_token: str) -> bool:
    return bool(XeroOAuth(_session(), xero_settings).list_connections(access_token))


def _run_workers(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at once; each result is a value or the exception it raised."""
    start, results = threading.Barrier(len(calls)), list[Any]([None] * len(calls))

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_workers_in_separate_processes_cause_exactly_one_refresh(
    xero_settings: Settings, xero_sandbox: XeroSandbox, expired_connection: Connection
) -> None:
    # GIVEN 20 workers, each with its own store client and HTTP session (as separate processes would)
    workers = [_service(xero_settings) for _ in range(WORKERS)]

    # WHEN they all need a token for the expired connection at once
    results = _run_workers([functools.partial(w.access_token, expired_connection.id) for w in workers])

    # THEN one refresh reached Xero, everyone got the same new token, Xero accepts it, the row is green
    assert _token_calls(xero_sandbox) == 1
    assert all(isinstance(r, tuple) for r in results), results
    (access, tenant_id) = results[0]
    assert {r for r in results} == {(access, tenant_id)}
    assert tenant_id == expired_connection.xero.tenant_id
    assert access != expired_connection.xero.access_token and _works_in_xero(xero_settings, access)
    stored = ConnectionStore.from_settings(xero_settings).require(expired_connection.id)
    assert stored.xero.error.is_green and stored.xero.access_token == access
    assert stored.xero.refresh_token != expired_connection.xero.refresh_token  # the rotated one was saved
    assert stored.xero.refresh_lease_holder == ""


def test_twenty_threads_sharing_one_service_cause_exactly_one_refresh(
    xero_settings: Settings, xero_sandbox: XeroSandbox, expired_connection: Connection
) -> None:
    service = _service(xero_settings)

    results = _run_workers([lambda: service.access_token(expired_connection.id)] * WORKERS)

    assert _token_calls(xero_sandbox) == 1
    assert len({r[0] for r in results}) == 1


def test_a_fresh_token_is_used_without_calling_xero(
    xero_settings: Settings, xero_sandbox: XeroSandbox, expired_connection: Connection
) -> None:
    service = _service(xero_settings)
    first = service.access_token(expired_connection.id)

    assert service.access_token(expired_connection.id) == first
    assert _token_calls(xero_sandbox) == 1


def test_a_revoked_refresh_token_turns_the_connection_red_and_stops_calling_xero(
    xero_settings: Settings, xero_sandbox: XeroSandbox, expired_connection: Connection
) -> None:
    # GIVEN the sign-in was revoked in Xero
    XeroOAuth(_session(), xero_settings).revoke(expired_connection.xero.refresh_token)

    # WHEN workers ask for a token
    results = _run_workers([lambda: _service(xero_settings).access_token(expired_connection.id)] * 4)

    # THEN each is told to reconnect, the connection shows why and what to do, and no token is kept
    assert all(isinstance(r, ReconnectRequired) and r.side == "xero" for r in results), results
    stored = ConnectionStore.from_settings(xero_settings).require(expired_connection.id)
    assert (stored.xero.error.reason, stored.xero.error.action) == (REFUSED.reason, "Reconnect to Xero")
    assert stored.xero.refresh_token == "" and stored.xero.access_token == ""
    calls_so_far = _token_calls(xero_sandbox)
    with pytest.raises(ReconnectRequired):
        _service(xero_settings).access_token(expired_connection.id)
    assert _token_calls(xero_sandbox) == calls_so_far


def test_reconnecting_turns_a_red_connection_green(
    xero_settings: Settings, xero_sandbox: XeroSandbox, expired_connection: Connection
) -> None:
    oauth = XeroOAuth(_session(), xero_settings)
    oauth.revoke(expired_connection.xero.refresh_token)
    service = _service(xero_settings)
    with pytest.raises(ReconnectRequired):
        service.access_token(expired_connection.id)

    tokens = oauth.exchange_code(_consent(xero_settings), REDIRECT_URI)
    (tenant,) = oauth.list_connections(tokens.access_token)
    service.save_grant(expired_connection.id, tokens, tenant)

    access, _ = service.access_token(expired_connection.id)
    assert _works_in_xero(xero_settings, access)
    assert ConnectionStore.from_settings(xero_settings).require(expired_connection.id).xero.error.is_green


def test_a_crashed_lease_holder_delays_others_by_one_lease_only(
    xero_settings: Settings, xero_sandbox: XeroSandbox, expired_connection: Connection
) -> None:
    # GIVEN a lease left behind by a worker that died mid-refresh
    def abandon(connection: Connection) -> None:
        connection.xero.refresh_lease_until = datetime.now(UTC) + timedelta(seconds=0.5)
        connection.xero.refresh_lease_holder = "dead-worker"

    ConnectionStore.from_settings(xero_settings).update(expired_connection.id, abandon)

    # WHEN another worker needs a token
    started = time.monotonic()
    access, _ = _service(xero_settings).access_token(expired_connection.id)

    # THEN it waited for the lease to run out, then refreshed itself
    assert 0.4 < time.monotonic() - started < 5
    assert _token_calls(xero_sandbox) == 1 and _works_in_xero(xero_settings, access)


def test_xero_unreachable_is_retriable_and_releases_the_lease(
    xero_settings: Settings, expired_connection: Connection
) -> None:
    # GIVEN Xero's identity host does not answer (nothing listens on its port)
    unreachable = replace(xero_settings, xero_identity_url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(RetriableError):
        _service(unreachable).access_token(expired_connection.id)

    stored = ConnectionStore.from_settings(xero_settings).require(expired_connection.id)
    assert stored.xero.refresh_lease_until is None
    assert stored.xero.error.is_green and stored.xero.refresh_token == expired_connection.xero.refresh_token


class _EditedDuringRefresh(XeroOAuth):
    """The real client, but the customer saves the connection's settings while Xero is answering."""

    def __init__(self, xero_settings: Settings, edit: Callable[[], object]) -> None:
        super().__init__(_session(), xero_settings)
        self._edit = edit

    def refresh(self, refresh_token: str) -> TokenSet:
        tokens = super().refresh(refresh_token)
        self._edit()
        return tokens


def test_an_unrelated_edit_during_the_refresh_keeps_both_the_edit_and_the_rotated_token(
    xero_settings: Settings, xero_sandbox: XeroSandbox, expired_connection: Connection
) -> None:
    # GIVEN the row changes (a rename) between the lease and saving the rotated token
    store = ConnectionStore.from_settings(xero_settings)
    oauth = _EditedDuringRefresh(xero_settings, lambda: store.update(expired_connection.id, _rename))

    # WHEN a worker refreshes
    access, _ = XeroTokens(store, oauth).access_token(expired_connection.id)

    # THEN its conditional write lost once, and it re-applied the tokens on top of the edit
    stored = store.require(expired_connection.id)
    assert stored.name == "Renamed meanwhile"
    assert stored.xero.access_token == access and _works_in_xero(xero_settings, access)
    assert stored.xero.refresh_token != expired_connection.xero.refresh_token
    assert _token_calls(xero_sandbox) == 1


def _rename(connection: Connection) -> None:
    connection.name = "Renamed meanwhile"


def test_consent_asks_for_the_granular_scopes_and_never_accounting_transactions(
    xero_settings: Settings,
) -> None:
    url = XeroOAuth(_session(), xero_settings).authorize_url("s", REDIRECT_URI)

    query = parse_qs(urlparse(url).query)
    assert urlparse(url).path == "/identity/connect/authorize"
    assert query["scope"][0].split() == [
        "offline_access",
        "accounting.invoices",
        "accounting.contacts",
        "accounting.settings",
        "accounting.payments.read",
    ]
    assert (query["client_id"], query["redirect_uri"]) == (["sandbox-xero-client"], [REDIRECT_URI])


def test_disconnecting_an_organisation_removes_it_from_the_connections_list(
    xero_settings: Settings, expired_connection: Connection
) -> None:
    oauth = XeroOAuth(_session(), xero_settings)
    access, _ = _service(xero_settings).access_token(expired_connection.id)
    (tenant,) = oauth.list_connections(access)
    assert tenant.tenant_id == expired_connection.xero.tenant_id
    assert tenant.id == expired_connection.xero.connection_id

    oauth.delete_connection(access, tenant.id)
    oauth.delete_connection(access, tenant.id)  # twice is fine: already gone

    assert oauth.list_connections(access) == []
