"""Form parsing, e-mail checks, next= sanitising and the client address."""

import pytest

from shared.accounts.fields import email_problem
from shared.web.forms import client_ip, parse_form, safe_next


@pytest.mark.parametrize("target", ["/connections", "/connections/abc?x=1#top", "/"])
def test_local_paths_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "connections",
        "javascript:alert(1)",
        "/connections\r\nSet-Cookie: x=1",
        "/\t/evil.example",
        "///evil.example",
    ],
)
def test_everything_else_is_ignored(target: str | None) -> None:
    assert safe_next(target) is None


def test_a_form_body_reads_as_its_first_values() -> None:
    form = parse_form(b"email=ana%40example.com&terms=accepted&terms=again&empty=")

    assert form == {"email": "ana@example.com", "terms": "accepted", "empty": ""}
    assert parse_form(b"\xff\xfe") == {} and parse_form(None) == {}


@pytest.mark.parametrize("email", ["ana@example.com", "a.b+c@sub.example.co.nz"])
def test_plausible_addresses_pass(email: str) -> None:
    assert email_problem(email) is None


@pytest.mark.parametrize(
    ("email", "problem"),
    [("", "Enter your e-mail address."), ("ana@", "like name@example.com"), ("ana example.com", "like"),
     ("ana@localhost", "like"), ("a@b@example.com", "like")],
)  # fmt: skip
def test_typing_mistakes_are_named(email: str, problem: str) -> None:
    found = email_problem(email)

    assert found is not None and problem in found


def test_the_client_address_is_the_last_forwarded_entry_without_port() -> None:
    assert client_ip({"x-forwarded-for": "1.2.3.4, 20.30.40.50:51234"}) == "20.30.40.50"
    assert client_ip({"x-forwarded-for": "[2001:db8::1]:443"}) == "2001:db8::1"
    assert client_ip({}) == "unknown"
