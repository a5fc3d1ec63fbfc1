"""Attack tests for issue 16 (SSRF): a customer-chosen host never receives a call or a Dynamics token.

A hostile "environment" runs on 127.0.0.1 (plain HTTP, standing for the customer's own server): it
redirects, hands out next-page links to another host, pages for ever and answers bodies without end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from shared.connections.dynamics_access import NOT_DATAVERSE, dataverse_client_for
from shared.connections.sync_form import ValidationFailed
from shared.dataverse.client import MAX_PAGES, MAX_RESPONSE_BYTES, DataverseClient
from shared.errors import FatalError, ReconnectRequired
from tests.integration.connection_helpers import World

TOKEN = "token-for-the-environment-only"
API = "/api/data/v9.2/"


@dataclass
class Hostile:
    url: str
    other: str = ""  # the second hostile host a link points to
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization) of each request
    body_bytes_sent: int = 0


def _serve(state: Hostile, other_port: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def _json(self, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._answer()

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self._answer()

        def _answer(self) -> None:
            state.seen.append((self.path, self.headers.get("Authorization", "")))
            path = self.path.split("?", 1)[0]
            if path.endswith("/redirect"):
                self.send_response(307)
                self.send_header("Location", f"http://127.0.0.1:{other_port}/steal")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path.endswith("/elsewhere"):
                self._json({"value": [{"id": 1}], "@odata.nextLink": f"http://127.0.0.1:{other_port}{API}x"})
            elif path.endswith("/endless"):
                page = int(self.path.rsplit("=", 1)[-1]) if "=" in self.path else 0
                link = f"{state.url}{API}endless?p={page + 1}"
                self._json({"value": [{"n": page}], "@odata.nextLink": link})
            elif path.endswith("/declared"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(10 * MAX_RESPONSE_BYTES))
                self.end_headers()
            elif path.endswith("/endless-body"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"[" + b"0," * 32767 + b"0"
                try:
                    for _ in range(4 * MAX_RESPONSE_BYTES // len(chunk)):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        state.body_bytes_sent += len(chunk)
                except OSError:
                    return  # the client hung up: what we want
            else:
                self._json({"value": []})

    return Handler


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    other_state = Hostile("")
    other = ThreadingHTTPServer(("127.0.0.1", 0), _serve(other_state, 0))
    other_port = other.server_address[1]
    state = Hostile("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _serve(state, other_port))
    state.url, state.other = f"http://127.0.0.1:{server.server_address[1]}", f"http://127.0.0.1:{other_port}"
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (server, other)]
    for thread in threads:
        thread.start()
    state.seen_elsewhere = other_state.seen  # type: ignore[attr-defined]
    yield state
    for s in (server, other):
        s.shutdown()
        s.server_close()


def _client(hostile: Hostile) -> DataverseClient:
    session = requests.Session()
    session.trust_env = False
    return DataverseClient(hostile.url, lambda force_refresh=False: TOKEN, session, timeout=5)


def _elsewhere(hostile: Hostile) -> list[tuple[str, str]]:
    return hostile.seen_elsewhere  # type: ignore[attr-defined, no-any-return]


def test_a_redirect_is_not_followed_and_the_token_stays_home(hostile: Hostile) -> None:
    client = _client(hostile)
    with pytest.raises(FatalError, match="redirect"):
        client.get("redirect")
    with pytest.raises(FatalError, match="redirect"):
        client.create("redirect", {"name": "replayed body"})  # a 307 would replay this POST elsewhere
    assert _elsewhere(hostile) == []


def test_a_next_page_link_to_another_host_is_not_followed(hostile: Hostile) -> None:
    with pytest.raises(FatalError, match="another address"):
        _client(hostile).get_all("elsewhere")
    assert _elsewhere(hostile) == []


def test_paging_stops_at_the_page_cap(hostile: Hostile) -> None:
    with pytest.raises(FatalError, match="kept sending pages"):
        _client(hostile).get_all("endless")
    assert len(hostile.seen) == MAX_PAGES


def test_a_body_larger_than_the_cap_is_refused_unread(hostile: Hostile) -> None:
    client = _client(hostile)
    started = time.monotonic()
    with pytest.raises(FatalError, match="larger than"):
        client.get("declared")  # refused by its Content-Length before any of it is read
    with pytest.raises(FatalError, match="larger than"):
        client.get("endless-body")  # no length: read as a stream, dropped at the cap
    assert hostile.body_bytes_sent < 2 * MAX_RESPONSE_BYTES
    assert time.monotonic() - started < 30


def test_the_app_only_form_refuses_a_foreign_host_without_calling_it(world: World, hostile: Hostile) -> None:
    connection = world.new_connection()
    tenant = world.dataverse.identity.directory.tenant.id
    host_port = hostile.url.rsplit(":", 1)[1]
    for url in (
        f"https://localhost:{host_port}",
        f"https://127.0.0.1:{host_port}",
        "https://169.254.169.254",
        f"https://x.crm.dynamics.com@127.0.0.1:{host_port}",
        f"https://127.0.0.1:{host_port}/.crm.dynamics.com",
    ):
        with pytest.raises(ValidationFailed) as refused:
            world.use_app("acct-a", connection.id, url, tenant, "sandbox-ms-client", "sandbox-ms-secret")
        assert set(refused.value.field_errors) == {"org_url"}
    assert hostile.seen == [] and world.reload(connection).dynamics.org_url == ""


def test_a_stored_foreign_address_is_never_called(world: World, hostile: Hostile) -> None:
    # GIVEN a connection whose row holds a foreign address (saved before addresses were checked)
    connection = world.new_connection()
    tenant = world.dataverse.identity.directory.tenant.id

    def plant(c: object) -> None:
        dynamics = c.dynamics  # type: ignore[attr-defined]
        dynamics.org_url, dynamics.auth_mode, dynamics.tenant_id = hostile.url, "app", tenant
        dynamics.app_client_id, dynamics.app_client_secret = "sandbox-ms-client", "sandbox-ms-secret"
        dynamics.organisation_id = "00000000-0000-0000-0000-000000000001"

    world.store.update(connection.id, plant)
    # WHEN background work asks for its client THEN it is refused before any call
    with pytest.raises(ReconnectRequired) as refused:
        dataverse_client_for(world.reload(connection), world.store, world.settings, world.session)
    assert NOT_DATAVERSE in str(refused.value) and hostile.seen == []
