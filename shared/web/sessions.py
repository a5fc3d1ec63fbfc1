"""The portal session: one signed, HttpOnly cookie.

Anonymous visitors get a pre-session holding only a CSRF secret, so the sign-up and sign-in forms are
protected too. Signing in replaces it with a new session (new session id, new CSRF secret) so a session
fixed before sign-in is useless after. `version` must equal the account's `session_version`, which a
password reset raises: every older cookie stops working at once. Flash messages ride in the same cookie,
so each response sets at most one cookie.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared.signing import sign, unsign

COOKIE_NAME = "dxc_session"
MAX_AGE = timedelta(hours=12)
_PURPOSE = "session"


@dataclass(frozen=True)
class Session:
    csrf_secret: str
    issued_at: int  # seconds since the epoch
    account_id: str = ""
    session_id: str = ""
    version: int = 0
    flash: tuple[str, ...] = field(default=())

    @property
    def signed_in(self) -> bool:
        return bool(self.account_id)

    def with_flash(self, message: str) -> Session:
        return replace(self, flash=(*self.flash, message))

    def without_flash(self) -> Session:
        return replace(self, flash=())


def anonymous(now: datetime) -> Session:
    return Session(csrf_secret=secrets.token_urlsafe(24), issued_at=int(now.timestamp()))


def signed_in(account_id: str, version: int, now: datetime) -> Session:
    return Session(
        csrf_secret=secrets.token_urlsafe(24),
        issued_at=int(now.timestamp()),
        account_id=account_id,
        session_id=secrets.token_urlsafe(18),
        version=version,
    )


def encode(session: Session, secret: str) -> str:
    payload = {
        "c": session.csrf_secret,
        "t": session.issued_at,
        "a": session.account_id,
        "s": session.session_id,
        "v": session.version,
        "f": list(session.flash),
    }
    return sign(payload, secret, _PURPOSE)


def decode(value: str, secret: str, now: datetime) -> Session | None:
    """The session in the cookie, or None when it was tampered with, is malformed or is too old."""
    payload = unsign(value, secret, _PURPOSE)
    if payload is None:
        return None
    try:
        session = Session(
            csrf_secret=str(payload["c"]),
            issued_at=int(payload["t"]),
            account_id=str(payload.get("a", "")),
            session_id=str(payload.get("s", "")),
            version=int(payload.get("v", 0)),
            flash=tuple(str(m) for m in payload.get("f", [])),
        )
    except (KeyError, TypeError, ValueError):
        return None
    age = now.timestamp() - session.issued_at
    if not 0 <= age <= MAX_AGE.total_seconds() + 60 or not session.csrf_secret:
        return None
    return session


def cookie_name(secure: bool) -> str:
    """Over https the name carries the __Host- prefix (RFC 6265bis §4.1.3.2): browsers then accept it only
    with Secure, Path=/ and no Domain, so neither a sibling subdomain nor a plain-http page can plant or
    overwrite it. Over http (local development) browsers refuse that prefix, so the plain name is used."""
    return f"__Host-{COOKIE_NAME}" if secure else COOKIE_NAME


def cookie_header(value: str, secure: bool, max_age: timedelta = MAX_AGE) -> str:
    """The Set-Cookie value. Secure only over https, or browsers would drop it on http://127.0.0.1."""
    name = cookie_name(secure)
    parts = [f"{name}={value}", "Path=/", f"Max-Age={int(max_age.total_seconds())}", "HttpOnly"]
    parts.append("SameSite=Lax")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def read_cookie(header: str, name: str = COOKIE_NAME) -> str | None:
    for part in header.split(";"):
        key, eq, value = part.strip().partition("=")
        if eq and key == name:
            return value.strip().strip('"')
    return None
