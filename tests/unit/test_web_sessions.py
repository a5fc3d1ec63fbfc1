"""The session cookie: signed, tamper-evident, expiring, versioned; its flags."""

from datetime import UTC, datetime, timedelta

from shared.web import sessions

SECRET = "unit-session-secret"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_a_signed_in_session_survives_the_round_trip() -> None:
    session = sessions.signed_in("account-1", version=3, now=NOW).with_flash("Welcome")

    decoded = sessions.decode(sessions.encode(session, SECRET), SECRET, NOW + timedelta(hours=1))

    assert decoded == session
    assert decoded.signed_in and decoded.version == 3 and decoded.flash == ("Welcome",)


def test_every_sign_in_gets_a_new_session_id_and_csrf_secret() -> None:
    first, second = sessions.signed_in("a", 0, NOW), sessions.signed_in("a", 0, NOW)

    assert first.session_id != second.session_id and first.csrf_secret != second.csrf_secret


def test_an_anonymous_session_holds_only_a_csrf_secret() -> None:
    session = sessions.anonymous(NOW)

    assert session.csrf_secret and not session.signed_in and session.session_id == ""


def test_a_changed_cookie_is_refused() -> None:
    value = sessions.encode(sessions.signed_in("account-1", 0, NOW), SECRET)
    body, _, signature = value.partition(".")
    forged_body = sessions.encode(sessions.signed_in("account-2", 0, NOW), SECRET).partition(".")[0]

    assert sessions.decode(f"{forged_body}.{signature}", SECRET, NOW) is None
    assert sessions.decode(f"{body}.{signature[:-2]}AA", SECRET, NOW) is None
    assert sessions.decode(value, "another-secret", NOW) is None
    assert sessions.decode("not-a-cookie", SECRET, NOW) is None


def test_a_cookie_older_than_twelve_hours_is_refused() -> None:
    value = sessions.encode(sessions.signed_in("account-1", 0, NOW), SECRET)

    assert sessions.decode(value, SECRET, NOW + timedelta(hours=11, minutes=59)) is not None
    assert sessions.decode(value, SECRET, NOW + timedelta(hours=12, minutes=2)) is None


def test_the_version_travels_so_a_password_reset_can_outdate_it() -> None:
    value = sessions.encode(sessions.signed_in("account-1", 4, NOW), SECRET)

    decoded = sessions.decode(value, SECRET, NOW)

    assert decoded is not None and decoded.version == 4


def test_cookie_flags_over_http_and_over_https() -> None:
    plain = sessions.cookie_header("v", secure=False)
    secure = sessions.cookie_header("v", secure=True)

    for header in (plain, secure):
        assert header.startswith(("dxc_session=v;", "__Host-dxc_session=v;"))
        assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
        assert "Max-Age=43200" in header
    assert "Secure" not in plain and secure.endswith("; Secure")


def test_the_cookie_is_found_among_others() -> None:
    header = 'theme=dark; dxc_session="abc.def"; other=1'

    assert sessions.read_cookie(header) == "abc.def"
    assert sessions.read_cookie("theme=dark") is None


def _first_page_cookie(public_base_url: str) -> str:
    import azure.functions as func

    from shared.config import Settings
    from shared.web.pages import Page

    settings = Settings.from_env({"SESSION_SECRET": SECRET, "PUBLIC_BASE_URL": public_base_url})
    request = func.HttpRequest("GET", public_base_url + "/", body=b"", headers={})
    # An anonymous first visit never reads the accounts table, so no store is needed.
    page = Page(request, settings, accounts=None, now=NOW)  # type: ignore[arg-type]
    return page.render("landing.html", title="Home").headers["Set-Cookie"]


def test_pages_mark_the_cookie_secure_exactly_when_the_portal_is_served_over_https() -> None:
    assert _first_page_cookie("https://portal.example").endswith("; Secure")
    assert "Secure" not in _first_page_cookie("http://127.0.0.1:7071")


def test_several_session_secrets_rotate_without_signing_everyone_out() -> None:
    # issue 16: SESSION_SECRET = "new,old" — the first signs, both verify; a dropped secret verifies nothing
    from shared.web.csrf import csrf_token, csrf_valid

    old_cookie = sessions.encode(sessions.signed_in("account-1", 0, NOW), "old-secret")
    assert sessions.decode(old_cookie, "new-secret,old-secret", NOW) is not None
    new_cookie = sessions.encode(sessions.signed_in("account-1", 0, NOW), "new-secret,old-secret")
    assert sessions.decode(new_cookie, "new-secret", NOW) is not None
    assert sessions.decode(old_cookie, "new-secret", NOW) is None
    token = csrf_token("old-secret", "csrf-1")
    assert csrf_valid("new-secret,old-secret", "csrf-1", token)
    assert not csrf_valid("new-secret", "csrf-1", token)


def test_over_https_the_cookie_is_a_host_cookie() -> None:
    # issue 16: __Host- makes browsers refuse the cookie unless Secure, Path=/ and no Domain
    header = sessions.cookie_header("v", secure=True)
    assert header.startswith("__Host-dxc_session=v;") and "Secure" in header and "Path=/" in header
    assert "Domain" not in header
    assert sessions.read_cookie("__Host-dxc_session=v", sessions.cookie_name(True)) == "v"
    assert sessions.read_cookie("dxc_session=planted", sessions.cookie_name(True)) is None
    assert sessions.cookie_header("v", secure=False).startswith("dxc_session=v;")  # http: browsers refuse it
