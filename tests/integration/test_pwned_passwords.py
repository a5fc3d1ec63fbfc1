"""The k-anonymity breach check against a stand-in of Pwned Passwords' range API on 127.0.0.1.

The stand-in answers as haveibeenpwned.com/API/v3#PwnedPasswords documents: `GET /range/{5 hex}` →
200 with `SUFFIX:COUNT` lines, and with `Add-Padding: true` extra made-up suffixes of count 0."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from local.ports import free_port
from shared.accounts.breached import MAX_BYTES, PwnedPasswords
from shared.accounts.password_setting import password_errors
from shared.accounts.passwords import LEAKED_MESSAGE

EMAIL = "owner@harbour-joinery.example"
BREACHED = "Harbour-Joinery-2019!"  # strong enough for the local rules, absent from the local list
PADDED_ONLY = "Kauri-Table-Leg-4412"  # its suffix appears, but only as padding (count 0)
FRESH = "quiet-tern-over-Manukau-88"


def _sha1(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


class RangeStandIn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.mode = "normal"  # or "error", "huge", "redirect"
        listed = {_sha1(BREACHED): 12}
        padding = {_sha1(PADDED_ONLY): 0}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                stand_in.requests.append((self.path, self.headers.get("Add-Padding")))
                prefix = self.path.rsplit("/", 1)[-1]
                if stand_in.mode == "error":
                    self.send_response(503)
                    self.end_headers()
                    return
                if stand_in.mode == "redirect":
                    self.send_response(307)
                    self.send_header("Location", f"/range/{_sha1(BREACHED)[:5]}")
                    self.end_headers()
                    return
                lines = [f"{h[5:]}:{n}" for h, n in listed.items() if h.startswith(prefix)]
                if self.headers.get("Add-Padding") == "true":
                    lines += [f"{h[5:]}:{n}" for h, n in padding.items() if h.startswith(prefix)]
                    lines += [f"{secrets.token_hex(18)[:35].upper()}:0" for _ in range(800)]
                if stand_in.mode == "huge":
                    lines += [f"{secrets.token_hex(18)[:35].upper()}:1" for _ in range(MAX_BYTES // 30)]
                body = "\r\n".join(lines).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture()
def stand_in() -> Iterator[RangeStandIn]:
    service = RangeStandIn()
    thread = threading.Thread(target=service.server.serve_forever, daemon=True)
    thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


@pytest.fixture()
def check(stand_in: RangeStandIn) -> PwnedPasswords:
    session = requests.Session()
    session.trust_env = False
    return PwnedPasswords(stand_in.url, session, timeout=2.0)


def test_only_five_characters_of_the_hash_leave_the_process(
    stand_in: RangeStandIn, check: PwnedPasswords
) -> None:
    assert check.seen(FRESH) is False
    digest = _sha1(FRESH)
    assert stand_in.requests == [(f"/range/{digest[:5]}", "true")]
    sent = stand_in.requests[0][0]
    assert FRESH not in sent and digest[5:] not in sent and digest[5:].lower() not in sent


def test_a_password_seen_in_breaches_is_refused_for_a_new_password(check: PwnedPasswords) -> None:
    assert password_errors(BREACHED, BREACHED, EMAIL) == {}, "the local list alone lets it through"
    assert password_errors(BREACHED, BREACHED, EMAIL, check) == {"password": LEAKED_MESSAGE}
    assert password_errors(FRESH, FRESH, EMAIL, check) == {}


def test_padding_of_count_zero_is_not_a_breach(check: PwnedPasswords) -> None:
    assert check.seen(PADDED_ONLY) is False
    assert password_errors(PADDED_ONLY, PADDED_ONLY, EMAIL, check) == {}


@pytest.mark.parametrize("mode", ["error", "huge", "redirect"])
def test_a_service_that_misbehaves_says_unknown_and_the_local_list_stands(
    stand_in: RangeStandIn, check: PwnedPasswords, mode: str
) -> None:
    stand_in.mode = mode
    assert check.seen(BREACHED) is None
    assert len(stand_in.requests) == 1, "no redirect followed, no retry"
    assert password_errors(BREACHED, BREACHED, EMAIL, check) == {}
    assert password_errors("Password1234", "Password1234", EMAIL, check) == {"password": LEAKED_MESSAGE}, (
        "the local list still refuses its passwords"
    )


def test_an_unreachable_service_says_unknown_within_the_timeout() -> None:
    session = requests.Session()
    session.trust_env = False
    check = PwnedPasswords(f"http://127.0.0.1:{free_port()}", session, timeout=1.0)
    assert check.seen(BREACHED) is None
    assert password_errors(FRESH, FRESH, EMAIL, check) == {}
