"""CSRF tokens: an HMAC of the session's CSRF secret, put in every form as `csrf_token`.

The secret lives only in the signed HttpOnly cookie, so another site can neither read nor forge a token."""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf_token"


def csrf_token(session_secret: str, csrf_secret: str) -> str:
    if not session_secret:
        raise RuntimeError("SESSION_SECRET is not set: forms cannot be protected")
    message = f"csrf\x1f{csrf_secret}".encode()
    return hmac.new(session_secret.encode(), message, hashlib.sha256).hexdigest()


def csrf_valid(session_secret: str, csrf_secret: str, presented: str) -> bool:
    if not presented or not csrf_secret:
        return False
    expected = csrf_token(session_secret, csrf_secret)
    return hmac.compare_digest(expected.encode(), presented.encode())
