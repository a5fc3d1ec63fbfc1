"""A real https identity stand-in on 127.0.0.1 per test, a session that trusts its CA, and MSAL apps."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import msal
import pytest
import requests
from werkzeug.wrappers import Request, Response

from local.sandbox.common import ServerThread, WSGIApp
from local.sandbox.dataverse.identity import IdentityService
from local.sandbox.dataverse.tls import SandboxCertificate, make_certificate

CLIENT_ID = "sandbox-ms-client"
CLIENT_SECRET = "sandbox-ms-secret"
START = 1_750_000_000.0


class ManualClock:
    """The stand-in's clock: tests move time instead of sleeping."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sandbox:
    identity: IdentityService
    clock: ManualClock
    url: str
    session: requests.Session  # trusts the sandbox CA, ignores REQUESTS_CA_BUNDLE

    def env_url(self, url_name: str) -> str:
        return f"{self.url}/env/{url_name}"

    def msal_app(
        self, tenant: str = "contoso", secret: str = CLIENT_SECRET
    ) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            CLIENT_ID,
            client_credential=secret,
            authority=f"{self.url}/{tenant}",
            instance_discovery=False,
            azure_region=False,
            http_client=self.session,
        )


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SandboxCertificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def trusting_session(ca_path: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override verify=
    session.verify = str(ca_path)
    return session


@dataclass
class Dispatcher:
    """One https server for the whole run; each test plugs in a fresh IdentityService (stopping a
    werkzeug server costs half a second, so one per test would dominate the run time)."""

    identity: IdentityService | None = None

    def app(self) -> WSGIApp:
        @Request.application
        def answer(request: Request) -> Response:
            found = self.identity.handle(request) if self.identity else None
            return found or Response("not found", 404)

        return answer


@pytest.fixture(scope="session")
def identity_server(certificate: SandboxCertificate) -> Iterator[tuple[ServerThread, Dispatcher]]:
    dispatcher = Dispatcher()
    server = ServerThread(dispatcher.app(), ssl_context=certificate.ssl_context()).start()
    yield server, dispatcher
    server.stop()


@pytest.fixture
def sandbox_factory(
    identity_server: tuple[ServerThread, Dispatcher], certificate: SandboxCertificate
) -> Iterator[Callable[..., Sandbox]]:
    server, dispatcher = identity_server

    def start(access_token_lifetime: int = 3600) -> Sandbox:
        clock = ManualClock()
        identity = IdentityService(lambda: server.url, clock, access_token_lifetime=access_token_lifetime)
        dispatcher.identity = identity
        return Sandbox(identity, clock, server.url, trusting_session(certificate.ca_path))

    yield start
    dispatcher.identity = None


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory()


def sign_in(
    session: requests.Session, auth_uri: str, upn: str | None, action: str = "accept"
) -> tuple[requests.Response, dict[str, str]]:
    """Drives the sign-in page like a person would: pick the account by its label, press the button.

    Returns the final answer and what it hands the app (MSAL's auth_response): the redirect's query, or
    the fields of the response_mode=form_post page."""
    page = session.get(auth_uri, allow_redirects=False)
    assert page.status_code == 200, page.text
    data = {"request": _attribute(page.text, r'name="request" value="([^"]+)"'), "action": action}
    if upn is not None:
        data["user"] = user_value_for(page.text, upn)
    form_path = _attribute(page.text, r'<form method="post" action="([^"]+)"')
    post_url = urlsplit(auth_uri)._replace(path=form_path, query="").geturl()
    answer = session.post(post_url, data=data, allow_redirects=False)
    if answer.status_code == 200:  # response_mode=form_post: the fields the browser would POST back
        fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', answer.text)
        return answer, {unescape(k): unescape(v) for k, v in fields}
    location = answer.headers.get("Location", "")
    return answer, dict(parse_qsl(urlsplit(location).query))


def _attribute(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    assert match, f"{pattern} not in page"
    return unescape(match.group(1))


def user_value_for(html: str, upn: str) -> str:
    label = re.search(rf'<label for="([^"]+)">[^<]*\({re.escape(upn)}\)</label>', html)
    assert label, f"no radio labelled with {upn}"
    radio = re.search(rf'id="{label.group(1)}" name="user" value="([^"]+)"', html)
    assert radio
    return radio.group(1)
