"""Dynamics webhook keys: the installer generates a key, gives it to Dynamics, and the connector keeps only
an HMAC-SHA256 of it (keyed with SESSION_SECRET, bound to the connection id). A leaked table therefore does
not let anyone post invoices in a customer's name."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from shared.dataverse.values import is_guid
from shared.store.models import Connection

_SEPARATOR = "."  # never in a UUID nor in token_urlsafe's alphabet


def new_webhook_key() -> str:
    return secrets.token_urlsafe(32)


def connection_webhook_key(connection_id: str) -> str:
    """`<connection id>.<random>`: the webhook finds the connection from the key alone, then verifies it."""
    return f"{connection_id}{_SEPARATOR}{new_webhook_key()}"


def connection_id_from_key(key: str) -> str:
    """The connection a presented key claims to belong to ("" unless it has our shape)."""
    connection_id, separator, rest = (key or "").partition(_SEPARATOR)
    return connection_id.lower() if separator and rest and is_guid(connection_id) else ""


def webhook_key_hash(connection_id: str, key: str, secret: str) -> str:
    if not secret:
        raise RuntimeError("SESSION_SECRET is not set: webhook keys cannot be hashed")
    message = f"{connection_id}\x1f{key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_webhook_key(connection: Connection, presented: str, secret: str) -> bool:
    """Constant-time check of the key Dynamics presented; False when no key was ever registered."""
    stored = connection.dynamics.webhook_key_hash
    if not stored or not presented:
        return False
    return hmac.compare_digest(stored, webhook_key_hash(connection.id, presented, secret))
