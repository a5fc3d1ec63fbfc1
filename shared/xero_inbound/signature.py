"""x-xero-signature: base64(HMAC-SHA256(raw body, the app's webhook key)), compared in constant time.

Source: developer.xero.com "Webhooks — configuring your server" (the signature is "a HMACSHA256 hash of the
payload using your webhook key, base64 encoded"; compare it with the header, and answer 401 when they
differ) and the x-xero-signature header of xero-webhooks.yaml (Xero-OpenAPI 16.1.0)."""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_SIGNATURE_CHARS = 128  # a base64 SHA-256 digest is 44 characters


def sign(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def is_signed_by_xero(body: bytes, presented: str | None, key: str) -> bool:
    """True only for the exact raw body Xero signed with `key`. No key configured: nothing can be trusted."""
    if not key or not presented or len(presented) > MAX_SIGNATURE_CHARS:
        return False
    return hmac.compare_digest(sign(body, key).encode(), presented.strip().encode())
