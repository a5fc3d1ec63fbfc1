"""CSRF tokens: an HMAC of the session's CSRF secret, put in every form as `csrf_token`.

The secret lives only in the signed HttpOnly cookie, so another site can neither read nor forge a token.
SESSION_SECRET may hold several secrets (shared/signing.py): the first makes tokens, all check them."""

from __future__ import annotations

import hashlib
import hmac

from shared.signing import secrets_of

FIELD = "csrf_token"


def _token(secret: str, csrf_secret: str) -> str:
    message = f"csrf\x1f{csrf_secret}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def csrf_token(session_secret: str, csrf_secret: str) -> str:
    if not session_secret.strip(", "):
        raise RuntimeError("SESSION_SECRET is not set: forms cannot be protected")
    return _token(secrets_of(session_secret)[0], csrf_secret)


def csrf_valid(session_secret: str, csrf_secret: str, presented: str) -> bool:
    if not presented or not csrf_secret:
        return False
    return any(
        hmac.compare_digest(_token(one, csrf_secret).encode(), presented.encode())
        for one in secrets_of(session_secret)
    )
