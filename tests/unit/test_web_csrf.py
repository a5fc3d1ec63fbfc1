"""CSRF tokens: bound to the session's secret and to SESSION_SECRET."""

from shared.web.csrf import csrf_token, csrf_valid


def test_the_token_of_this_session_is_accepted() -> None:
    token = csrf_token("server-secret", "session-csrf-secret")

    assert csrf_valid("server-secret", "session-csrf-secret", token)


def test_a_missing_or_foreign_token_is_refused() -> None:
    other_session = csrf_token("server-secret", "another-session")

    assert not csrf_valid("server-secret", "session-csrf-secret", "")
    assert not csrf_valid("server-secret", "session-csrf-secret", other_session)
    assert not csrf_valid("server-secret", "", csrf_token("server-secret", ""))
    assert not csrf_valid(
        "other-server", "session-csrf-secret", csrf_token("server-secret", "session-csrf-secret")
    )
    assert not csrf_valid("server-secret", "session-csrf-secret", "ünïcode")
