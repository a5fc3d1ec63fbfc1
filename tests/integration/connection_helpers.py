"""What the connection service tests share: both sandboxes, the stores on a real Azurite, the services,
and a "browser" that walks the sandboxes' consent and sign-in pages and stops at our redirect_uri (no web
server of ours is needed: the redirect's query is what the callback route would receive)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests

from local.sandbox.dataverse import DataverseSandbox
from local.sandbox.xero import XeroSandbox
from shared.config import Settings
from shared.connections.connections import create_connection
from shared.connections.dynamics_app_only import use_app_credentials
from shared.connections.dynamics_connect import DynamicsConnect
from shared.connections.results import Connected, ConnectFailed, NeedsChoice
from shared.connections.xero_connect import XeroConnect
from shared.crypto import KeyRing, generate_key
from shared.http import make_session
from shared.store.connections import ConnectionStore
from shared.store.models import Connection
from shared.store.oauth_state import OAuthStateStore
from shared.xero.oauth import XeroOAuth

XERO_REDIRECT = "http://127.0.0.1:7071/oauth/xero/callback"
DYNAMICS_REDIRECT = "http://127.0.0.1:7071/oauth/dynamics/callback"
ADMIN, LIMITED = "admin@contoso.example", "limited@contoso.example"
NZ, AU, UK = "Demo Company (NZ)", "Demo Company (AU)", "Demo Company (UK)"
PRODUCTION, SANDBOX_ENV = "Contoso (Production)", "Contoso (Sandbox)"


class Clock:
    """Real time plus an offset the test moves (OAuth states expire after 10 minutes)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class World:
    xero_sandbox: XeroSandbox
    dataverse: DataverseSandbox
    settings: Settings
    store: ConnectionStore
    states: OAuthStateStore
    session: requests.Session
    clock: Clock
    xero: XeroConnect
    dynamics: DynamicsConnect
    browser: requests.Session = field(default_factory=lambda: browser_session())

    def new_connection(self, account_id: str = "acct-a", name: str = "Main") -> Connection:
        return create_connection(self.store, account_id, name, "trial", self.clock)

    def reload(self, connection: Connection) -> Connection:
        return self.store.require(connection.id)

    def use_app(
        self, account_id: str, connection_id: str, org_url: str, tenant_id: str, client_id: str, secret: str
    ) -> Connected | ConnectFailed:
        form = {"org_url": org_url, "tenant_id": tenant_id, "client_id": client_id, "client_secret": secret}
        return use_app_credentials(self.store, self.settings, self.session, account_id, connection_id, form)


def fresh_world(xero_sandbox: XeroSandbox, dataverse: DataverseSandbox, storage: str, prefix: str) -> World:
    """New tables (a unique prefix) and new services on both sandboxes (reset by their fixtures)."""
    settings = Settings.from_env(
        {
            "AzureWebJobsStorage": storage,
            "TABLE_PREFIX": prefix,
            "TOKEN_ENCRYPTION_KEYS": generate_key("k1"),
            "SESSION_SECRET": "test-session-secret",
            "WEBHOOK_KEY_SECRETS": "t1:test-webhook-key-secret-0123456789abcdef",
            "PUBLIC_BASE_URL": "https://connector.example",
            "XERO_CLIENT_ID": "sandbox-xero-client",
            "XERO_CLIENT_SECRET": "sandbox-xero-secret",
            "XERO_LOGIN_URL": xero_sandbox.url,
            "XERO_IDENTITY_URL": xero_sandbox.url,
            "XERO_API_URL": xero_sandbox.url,
            "MS_CLIENT_ID": "sandbox-ms-client",
            "MS_CLIENT_SECRET": "sandbox-ms-secret",
            "MS_AUTHORITY_HOST": dataverse.url,
            "DATAVERSE_DISCOVERY_URL": dataverse.url,
            "DEV_DATAVERSE_SANDBOX_ORIGIN": dataverse.url,
            "TLS_CA_BUNDLE": str(dataverse.ca_path),
            "HTTP_TIMEOUT_SECONDS": "10",
        }
    )
    clock = Clock()
    session = make_session(settings)
    keys = KeyRing.from_setting(settings.token_encryption_keys)
    store = ConnectionStore.from_settings(settings)
    states = OAuthStateStore.from_settings(settings, clock)
    return World(
        xero_sandbox,
        dataverse,
        settings,
        store,
        states,
        session,
        clock,
        XeroConnect(store, states, XeroOAuth(session, settings, clock), keys),
        DynamicsConnect(store, states, keys, settings, session),
    )


def browser_session(ca_path: Path | None = None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    if ca_path:
        session.verify = str(ca_path)
    return session


def xero_consent(
    world: World, authorize_url: str, organisations: list[str], decision: str = "allow"
) -> dict[str, str]:
    """Open Xero's consent page, tick `organisations` by their labels, press Allow (or Cancel); the query
    Xero redirects the browser back with."""
    page = world.browser.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    boxes = dict(
        re.findall(r'name="tenant" value="([^"]+)">\s*<label for="[^"]+">([^<]+)</label>', page.text)
    )
    tenants = [tenant for tenant, label in boxes.items() if unescape(label) in organisations]
    assert len(tenants) == len(organisations), boxes
    form = [
        *((k, unescape(v)) for k, v in hidden.items()),
        *(("tenant", t) for t in tenants),
        ("decision", decision),
    ]
    answer = world.browser.post(
        f"{world.xero_sandbox.url}/identity/connect/authorize", data=form, allow_redirects=False, timeout=10
    )
    return _redirect_query(answer, XERO_REDIRECT)


def microsoft_sign_in(
    world: World, authorize_url: str, upn: str = ADMIN, action: str = "accept"
) -> dict[str, str]:
    """Open the Microsoft sign-in page, pick the account labelled with `upn`, press Accept (or Cancel)."""
    browser = browser_session(world.dataverse.ca_path)
    page = browser.get(authorize_url, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    request_id = _attribute(page.text, r'name="request" value="([^"]+)"')
    label_for = _attribute(page.text, rf'<label for="([^"]+)">[^<]*\({re.escape(upn)}\)</label>')
    user = _attribute(page.text, rf'id="{re.escape(label_for)}" name="user" value="([^"]+)"')
    action_path = _attribute(page.text, r'<form method="post" action="([^"]+)"')
    post_url = urlsplit(authorize_url)._replace(path=action_path, query="").geturl()
    answer = browser.post(
        post_url,
        data={"request": request_id, "user": user, "action": action},
        allow_redirects=False,
        timeout=10,
    )
    return _redirect_query(answer, DYNAMICS_REDIRECT)


def _redirect_query(answer: requests.Response, redirect_uri: str) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(redirect_uri), location
    return dict(parse_qsl(urlsplit(location).query))


def _attribute(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    assert match, f"{pattern} not in the page"
    return unescape(match.group(1))


def connect_dynamics(world: World, connection_id: str, upn: str = ADMIN, account: str = "acct-a") -> None:
    query = microsoft_sign_in(world, world.dynamics.begin(account, connection_id, DYNAMICS_REDIRECT), upn)
    pick = world.dynamics.complete(account, query)
    assert isinstance(pick, NeedsChoice)
    production = next(c for c in pick.choices if c.name == PRODUCTION)
    assert world.dynamics.choose(account, pick.pick_token, production.id) == Connected(PRODUCTION)
