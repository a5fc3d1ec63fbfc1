"""The sandbox CA and server certificate: reused while valid, renewed otherwise, trusted only on purpose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.wrappers import Request, Response

from local.sandbox.common import ServerThread
from local.sandbox.dataverse.tls import SandboxCertificate, make_certificate

from .conftest import trusting_session


def contents(cert: SandboxCertificate) -> list[bytes]:
    return [p.read_bytes() for p in (cert.ca_path, cert.cert_path, cert.key_path)]


def test_certificate_is_reused_while_valid(tmp_path: Path) -> None:
    first = make_certificate(tmp_path)
    again = make_certificate(tmp_path)
    assert again == first and contents(again) == contents(first)
    assert first.key_path.stat().st_mode & 0o077 == 0


def test_expired_or_damaged_certificate_is_replaced(tmp_path: Path) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    expired = contents(make_certificate(tmp_path, now=long_ago))
    renewed = make_certificate(tmp_path)
    assert contents(renewed) != expired
    before_damage = contents(renewed)
    renewed.cert_path.write_text("garbage")
    repaired = make_certificate(tmp_path)
    assert b"BEGIN CERTIFICATE" in repaired.cert_path.read_bytes()
    assert contents(repaired)[0] != before_damage[0]  # a whole new CA, never a half-matching pair


@pytest.fixture
def tls_server(certificate: SandboxCertificate) -> Iterator[ServerThread]:
    @Request.application
    def app(request: Request) -> Response:
        return Response("ok")

    server = ServerThread(app, ssl_context=certificate.ssl_context()).start()
    yield server
    server.stop()


def test_only_a_client_trusting_the_ca_completes_the_handshake(
    tls_server: ServerThread, certificate: SandboxCertificate
) -> None:
    trusting = trusting_session(certificate.ca_path)
    assert trusting.get(tls_server.url, timeout=5).text == "ok"
    assert trusting.get(tls_server.url.replace("127.0.0.1", "localhost"), timeout=5).text == "ok"
    untrusting = requests.Session()
    untrusting.trust_env = False  # default verify: the public CAs only
    with pytest.raises(requests.exceptions.SSLError):
        untrusting.get(tls_server.url, timeout=5)
