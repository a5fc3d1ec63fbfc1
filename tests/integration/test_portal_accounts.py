"""The account pages over real HTTP: the local Functions host in-process, a real Azurite, a real SMTP sink."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import azure.functions as func
import pytest
import requests

from functions.portal_accounts import portal_dev_mailbox
from shared import bootstrap
from shared.accounts.links import LinkClaims, make_token
from shared.config import Settings
from shared.store.accounts import AccountStore
from shared.store.models import utc_now
from shared.web import sessions
from tests.browser.portal_stack import SESSION_SECRET, Portal
from tests.support.portal_visitor import GOOD_PASSWORD, Visitor, link_token
from tests.support.stack import forget_app, install_app


def _passwords(link: str, password: str = GOOD_PASSWORD) -> dict[str, str]:
    return {"token": link_token(link), "password": password, "confirm": password}


def _email() -> str:
    return f"ana.{uuid.uuid4().hex[:8]}@example.com"


def _store() -> AccountStore:
    return AccountStore.from_settings(bootstrap.worker().settings)


def test_register_follow_the_link_set_a_password_and_land_signed_in(portal: Portal) -> None:
    visitor, email = Visitor(portal), _email()

    checked = visitor.register(email)

    assert checked.status_code == 200 and "Check your e-mail" in checked.text
    [message] = portal.emails_to(email)
    assert "Confirm your e-mail address" in str(message["Subject"])
    link = portal.link_in_last_email_to(email)
    assert link.startswith(portal.url + "/verify?token=")
    form = visitor.get(link)
    assert form.status_code == 200 and "Choose your password" in form.text
    done = visitor.post("/verify", _passwords(link))
    assert done.status_code == 303 and done.headers["Location"] == "/connections"
    assert visitor.get("/").headers["Location"] == "/connections"  # signed in: the landing page moves on
    account = _store().get_by_email(email)
    assert account is not None and account.email_verified and account.plan == "trial"
    assert account.trial_ends_at is not None
    assert timedelta(days=13, hours=23) < account.trial_ends_at - utc_now() <= timedelta(days=14)
    assert account.password_hash.startswith("$argon2id$") and account.verify_link_nonce == ""


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(portal: Portal) -> None:
    visitor = Visitor(portal)
    visitor.get("/signup")
    data = {"name": "Ana", "company": "Kiwi", "email": _email(), "terms": "accepted"}

    missing = visitor.post("/signup", data, with_token=False)
    wrong = visitor.post("/signup", {**data, "csrf_token": "0" * 64}, with_token=False)
    stranger = Visitor(portal).post("/signup", {**data, "csrf_token": visitor.token}, with_token=False)

    for answer in (missing, wrong, stranger):
        assert answer.status_code == 403
        assert "This form expired — reload the page and try again" in answer.text
    assert _store().get_by_email(data["email"]) is None


def test_registering_an_address_twice_says_so_and_points_to_sign_in(portal: Portal) -> None:
    email = _email()
    Visitor(portal).register(email)

    again = Visitor(portal).register(email.upper())

    assert again.status_code == 409
    assert "An account with this e-mail address already exists" in again.text
    assert 'href="/signin"' in again.text and 'href="/forgot"' in again.text
    assert len(portal.emails_to(email)) == 1


def test_every_wrong_field_gets_its_own_message(portal: Portal) -> None:
    visitor = Visitor(portal)
    visitor.get("/signup")

    answer = visitor.post("/signup", {"name": "", "company": "<script>alert(1)</script>", "email": "ana@"})

    assert answer.status_code == 400
    assert "Enter your name." in answer.text
    assert "Enter an e-mail address like name@example.com." in answer.text
    assert "Accept the terms to start the free trial." in answer.text
    assert 'aria-describedby="email-error"' in answer.text and 'id="email-error"' in answer.text
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1A", "Use at least 12 characters."),
        ("onlylowercaseletters", "Mix at least two kinds of character"),
        ("{email}", "Do not use your e-mail address as your password."),
        ("Password1234", "This password appears in lists of leaked passwords — choose another."),
    ],
)
def test_a_weak_password_is_refused_with_the_rule_it_breaks(
    portal: Portal, password: str, message: str
) -> None:
    visitor, email = Visitor(portal), _email()
    password = password.format(email=email)

    answer = visitor.register_and_set_password(email, password)

    assert answer.status_code == 400 and message in answer.text
    account = _store().get_by_email(email)
    assert account is not None and not account.email_verified and account.password_hash == ""


def test_different_confirmation_is_refused(portal: Portal) -> None:
    visitor, email = Visitor(portal), _email()
    visitor.register(email)
    link = portal.link_in_last_email_to(email)
    visitor.get(link)

    answer = visitor.post(
        "/verify", {"token": link_token(link), "password": GOOD_PASSWORD, "confirm": "other"}
    )

    assert answer.status_code == 400 and "The two passwords are not the same" in answer.text


def test_a_used_an_expired_and_a_changed_link_each_say_what_happened(portal: Portal) -> None:
    visitor, email = Visitor(portal), _email()
    assert visitor.register_and_set_password(email).status_code == 303
    link = portal.link_in_last_email_to(email)
    account = _store().get_by_email(email)
    assert account is not None
    old = LinkClaims(account.id, "verify", int((utc_now() - timedelta(seconds=1)).timestamp()), "n")

    used = Visitor(portal).get(link)
    expired = Visitor(portal).get("/verify?token=" + make_token(old, SESSION_SECRET))
    changed = Visitor(portal).get(link[:-3] + ("abc" if not link.endswith("abc") else "xyz"))
    fresh = Visitor(portal)
    fresh.get("/signup")
    replayed = fresh.post("/verify", _passwords(link))

    # a used link of a confirmed account says so and offers sign-in, not a new link that never comes
    assert used.status_code == 200 and "already confirmed" in used.text
    assert 'href="/signin"' in used.text and 'action="/verify/resend"' not in used.text
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert changed.status_code == 400 and "This link is not valid" in changed.text
    assert replayed.status_code == 410 and "This link was already used" in replayed.text
    assert 'action="/verify/resend"' in expired.text  # and it offers a new one


def test_a_resend_within_the_cool_down_does_not_void_the_link_already_sent(portal: Portal) -> None:
    # issue 16: a stranger asking again and again must not void the link in the person's mailbox (a new
    # link after the cool-down does replace the old one: tests/integration/test_abuse_limits.py)
    visitor, email = Visitor(portal), _email()
    visitor.register(email)
    first = portal.link_in_last_email_to(email)
    stranger = Visitor(portal)
    stranger.get("/verify/resend")

    sent = stranger.post("/verify/resend", {"email": email})

    assert sent.status_code == 200 and "we sent a new link" in sent.text  # the same answer as ever
    assert len(portal.emails_to(email)) == 1
    assert Visitor(portal).get(first).status_code == 200


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(portal: Portal) -> None:
    email = _email()
    assert Visitor(portal).register_and_set_password(email).status_code == 303
    visitor = Visitor(portal)
    visitor.get("/signin")

    wrong = [visitor.post("/signin", {"email": email, "password": "wrong password 1"}) for _ in range(5)]
    right = visitor.post("/signin", {"email": email, "password": GOOD_PASSWORD})

    assert [a.status_code for a in wrong] == [401, 401, 401, 401, 429]
    assert "The e-mail address or the password is not right." in wrong[0].text
    assert right.status_code == 429
    assert "Too many failed sign-ins for this account. Try again in 15 minutes" in right.text
    assert visitor.session() is not None and not visitor.session().signed_in  # type: ignore[union-attr]


def test_sign_in_changes_the_session_and_follows_only_local_next(portal: Portal) -> None:
    email = _email()
    assert Visitor(portal).register_and_set_password(email).status_code == 303
    visitor = Visitor(portal)

    visitor.get("/signin?next=//evil.example/x")
    before = visitor.session()
    offsite = visitor.post("/signin", {"email": email, "password": GOOD_PASSWORD, "next": "//evil.example/x"})
    after = visitor.session()

    assert offsite.status_code == 303 and offsite.headers["Location"] == "/connections"
    assert before is not None and after is not None
    assert not before.signed_in and after.signed_in and after.session_id
    assert after.csrf_secret != before.csrf_secret
    other = Visitor(portal)
    other.get("/signin?next=/connections/abc%3Fx")
    local = other.post("/signin", {"email": email, "password": GOOD_PASSWORD, "next": "/connections/abc?x=1"})
    assert local.headers["Location"] == "/connections/abc?x=1"
    assert other.session().session_id != after.session_id  # type: ignore[union-attr]


def test_the_session_cookie_is_httponly_lax_and_not_secure_over_http(portal: Portal) -> None:
    answer = Visitor(portal).get("/signin")

    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(sessions.COOKIE_NAME + "=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Max-Age=43200" in cookie and "Secure" not in cookie


def test_every_page_sends_the_security_headers(portal: Portal) -> None:
    visitor = Visitor(portal)
    for path in ("/", "/signup", "/signin", "/forgot", "/verify?token=x", "/dev/mailbox"):
        headers = visitor.get(path).headers
        assert "default-src 'self'" in headers["Content-Security-Policy"], path
        assert "unsafe-inline" not in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_the_stylesheet_is_served_with_a_long_cache_lifetime(portal: Portal) -> None:
    landing = Visitor(portal).get("/")
    href = re.search(r'href="(/static/app\.css\?v=[0-9a-f]+)"', landing.text)
    assert href is not None

    css = requests.get(portal.url + href.group(1), timeout=10)

    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "max-age=31536000" in css.headers["Cache-Control"]
    assert ".light-green" in css.text and ".light-red" in css.text


def test_forgotten_password_reset_signs_out_every_other_session(portal: Portal) -> None:
    email = _email()
    first = Visitor(portal)
    assert first.register_and_set_password(email).status_code == 303
    forgetful = Visitor(portal)
    forgetful.get("/forgot")

    known = forgetful.post("/forgot", {"email": email})
    unknown = forgetful.post("/forgot", {"email": _email()})

    assert known.status_code == unknown.status_code == 200
    assert "If " in known.text and "we sent a link" in known.text and "we sent a link" in unknown.text
    link = portal.link_in_last_email_to(email)
    assert "/reset?token=" in link
    forgetful.get(link)
    new_password = "a brand new Password 7"
    reset = forgetful.post(
        "/reset", {"token": link_token(link), "password": new_password, "confirm": new_password}
    )
    assert reset.status_code == 303 and reset.headers["Location"] == "/connections"
    assert forgetful.get("/").headers.get("Location") == "/connections"
    assert first.get("/").status_code == 200  # the old session is anonymous now: the landing page shows
    assert Visitor(portal).get(link).status_code == 410
    again = Visitor(portal)
    again.get("/signin")
    assert again.post("/signin", {"email": email, "password": new_password}).status_code == 303


def test_a_reset_to_a_leaked_password_is_refused_and_the_link_still_works(portal: Portal) -> None:
    email = _email()
    assert Visitor(portal).register_and_set_password(email).status_code == 303
    forgetful = Visitor(portal)
    forgetful.get("/forgot")
    forgetful.post("/forgot", {"email": email})
    link = portal.link_in_last_email_to(email)
    forgetful.get(link)

    leaked = forgetful.post("/reset", _passwords(link, "qwerty123456"))
    fine = forgetful.post("/reset", _passwords(link, "a brand new Password 7"))

    assert leaked.status_code == 400 and "appears in lists of leaked passwords" in leaked.text
    assert fine.status_code == 303  # the refused try did not use the link up


def test_sign_out_ends_the_session(portal: Portal) -> None:
    visitor, email = Visitor(portal), _email()
    assert visitor.register_and_set_password(email).status_code == 303
    page = visitor.get("/dev/mailbox")
    assert email in page.text and "Sign out" in page.text

    stolen = visitor.cookie()  # issue 16: a copy of the cookie, taken while signed in

    out = visitor.post("/signout", {})

    assert out.status_code == 303 and out.headers["Location"] == "/"
    landing = visitor.get("/")
    assert landing.status_code == 200 and "You are signed out." in landing.text
    thief = Visitor(portal)
    thief.http.cookies.set(sessions.COOKIE_NAME, stolen)
    replayed = thief.get("/connections")
    assert replayed.status_code in (302, 303) and "/signin" in replayed.headers["Location"]


def test_the_dev_mailbox_is_absent_unless_its_folder_is_set(
    storage_connection: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_PREFIX", unique_name)
    monkeypatch.setenv("SESSION_SECRET", SESSION_SECRET)
    monkeypatch.delenv("DEV_MAILBOX_DIR", raising=False)
    install_app()
    try:
        assert bootstrap.worker().settings == Settings.from_env(dict(__import__("os").environ))
        request = func.HttpRequest("GET", "http://localhost/dev/mailbox", body=b"")
        answer = portal_dev_mailbox.build().get_user_function()(request)
    finally:
        forget_app()

    assert answer.status_code == 404


def test_dev_mailbox_refuses_names_outside_its_folder(portal: Portal, tmp_path: Path) -> None:
    visitor = Visitor(portal)

    for name in ("..%2F..%2Fetc%2Fpasswd", "x.txt", "%2E%2E.eml"):
        assert visitor.get(f"/dev/mailbox/{name}").status_code == 404


def test_one_address_failing_for_many_accounts_is_stopped(portal: Portal) -> None:
    visitor = Visitor(portal)
    visitor.get("/signin")

    answers = [visitor.post("/signin", {"email": _email(), "password": "guess guess 1"}) for _ in range(21)]

    assert [a.status_code for a in answers[:20]] == [401] * 20
    assert answers[20].status_code == 429
    assert "Too many failed sign-ins from your network" in answers[20].text


def test_a_form_body_larger_than_any_form_is_refused_by_its_length(portal: Portal) -> None:
    # issue 16: refused by Content-Length before the page reads or parses it
    visitor = Visitor(portal)
    visitor.get("/signin")
    answer = visitor.post("/signin", {"email": "a@example.com", "password": "x" * (2 * 1024 * 1024)})
    assert answer.status_code == 413
