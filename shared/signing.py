"""Signed, tamper-evident tokens: base64url(JSON payload) "." base64url(HMAC-SHA256).

The purpose is part of the MAC, so a token made for one use (a session cookie) is worthless for another
(a password-reset link) even though both are signed with SESSION_SECRET.

SESSION_SECRET may hold several secrets, comma separated (issue 16: rotation): the first signs, every
one verifies. Put a new one first, keep the old one after it for as long as its sessions and links should
still work (a day covers e-mail links), then drop it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secrets_of(setting: str) -> list[str]:
    """The secrets a SESSION_SECRET value holds, the signing one first; RuntimeError when none."""
    found = [part.strip() for part in setting.split(",") if part.strip()]
    if not found:
        raise RuntimeError("SESSION_SECRET is not set: sessions and e-mail links cannot be signed")
    return found


def _mac(secret: str, purpose: str, body: str) -> bytes:
    return hmac.new(secret.encode(), f"{purpose}\x1f{body}".encode(), hashlib.sha256).digest()


def sign(payload: dict[str, Any], secret: str, purpose: str) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(_mac(secrets_of(secret)[0], purpose, body))}"


def unsign(token: str, secret: str, purpose: str) -> dict[str, Any] | None:
    """The payload when the token is intact and was made for `purpose`; None otherwise."""
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature or len(token) > 4096:
        return None
    try:
        presented = _unb64(signature)
        if not any(hmac.compare_digest(presented, _mac(one, purpose, body)) for one in secrets_of(secret)):
            return None
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None
