"""Dynamics webhook keys: the installer generates a key, gives it to Dynamics, and the connector keeps only
an HMAC-SHA256 of it, bound to the connection id. A leaked table therefore does not let anyone post
invoices in a customer's name.

The HMAC keys are a ring of their own, WEBHOOK_KEY_SECRETS = "kid:secret[,kid:secret…]" (issue 16): the
first hashes new keys, every one verifies, and the kid is stored beside each hash. Rotating
SESSION_SECRET therefore no longer turns every webhook into a 401 (which Dynamics does not retry).
Hashes stored before the ring existed have no kid: they were made with SESSION_SECRET and are checked
against its secrets until the connection's key is rotated ("Rotate webhook key").

A rotated key's old hash stays valid until `previous_webhook_key_until`, so deliveries Dynamics signed
with the old key while the new one was being written still arrive.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from shared.dataverse.values import is_guid
from shared.store.models import Connection

_SEPARATOR = "."  # never in a UUID nor in token_urlsafe's alphabet


class WebhookKeyConfigError(RuntimeError):
    """WEBHOOK_KEY_SECRETS is missing or malformed (the message says how)."""


def new_webhook_key() -> str:
    return secrets.token_urlsafe(32)


def connection_webhook_key(connection_id: str) -> str:
    """`<connection id>.<random>`: the webhook finds the connection from the key alone, then verifies it."""
    return f"{connection_id}{_SEPARATOR}{new_webhook_key()}"


def connection_id_from_key(key: str) -> str:
    """The connection a presented key claims to belong to ("" unless it has our shape)."""
    connection_id, separator, rest = (key or "").partition(_SEPARATOR)
    return connection_id.lower() if separator and rest and is_guid(connection_id) else ""


def _digest(secret: str, connection_id: str, key: str) -> str:
    message = f"{connection_id}\x1f{key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookKeyRing:
    secrets: dict[str, str]  # kid -> HMAC secret; the first is current
    legacy: tuple[str, ...] = ()  # SESSION_SECRET's secrets, for hashes stored without a kid

    @classmethod
    def from_settings(cls, ring: str, session_secret: str = "") -> WebhookKeyRing:
        found: dict[str, str] = {}
        for entry in (part.strip() for part in ring.split(",") if part.strip()):
            kid, colon, secret = entry.partition(":")
            if not colon or not kid.isalnum() or len(secret) < 32 or kid in found:
                raise WebhookKeyConfigError(
                    "WEBHOOK_KEY_SECRETS: expected 'kid:secret[,kid:secret]' with distinct letter-or-digit "
                    "kids and secrets of at least 32 characters"
                )
            found[kid] = secret
        legacy = tuple(part.strip() for part in session_secret.split(",") if part.strip())
        return cls(found, legacy)

    @property
    def current_kid(self) -> str:
        if not self.secrets:
            raise WebhookKeyConfigError("WEBHOOK_KEY_SECRETS is not set: webhook keys cannot be hashed")
        return next(iter(self.secrets))

    def hash(self, connection_id: str, key: str) -> tuple[str, str]:
        """(kid, hash) of a new key."""
        kid = self.current_kid
        return kid, _digest(self.secrets[kid], connection_id, key)

    def matches(self, connection_id: str, presented: str, kid: str, stored: str) -> bool:
        if not stored or not presented:
            return False
        candidates = self.legacy if not kid else ((self.secrets[kid],) if kid in self.secrets else ())
        return any(hmac.compare_digest(stored, _digest(s, connection_id, presented)) for s in candidates)

    def verify(self, connection: Connection, presented: str, now: datetime) -> bool:
        """Constant-time check of the key Dynamics presented: the current key, or the previous one during
        its overlap. False when no key was ever registered."""
        dynamics = connection.dynamics
        if self.matches(connection.id, presented, dynamics.webhook_key_id, dynamics.webhook_key_hash):
            return True
        until = dynamics.previous_webhook_key_until
        return (
            until is not None
            and now < until
            and self.matches(
                connection.id, presented, dynamics.previous_webhook_key_id, dynamics.previous_webhook_key_hash
            )
        )
