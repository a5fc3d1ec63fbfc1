"""Encryption of secrets at rest (OAuth tokens, the MSAL cache, app secrets): AES-256-GCM with a key ring.

TOKEN_ENCRYPTION_KEYS = "kid:base64(32 bytes),kid2:base64(...)". The first key encrypts; every listed key
decrypts, so a key is rotated by putting a new one first and dropping the old one once nothing uses it.

Ciphertext: "v1.<kid>.<base64url(nonce + ciphertext + tag)>". The associated data binds each value to its
owner and field ("<owner>\\x1f<field>"), so a token copied into another connection's row, or into another
column of the same row, does not decrypt. Messages never contain key material.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"
_NONCE_BYTES = 12
_KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class KeyConfigError(ValueError):
    """TOKEN_ENCRYPTION_KEYS is missing or malformed; the message says how, never what the key is."""


class DecryptionError(ValueError):
    """A ciphertext is malformed, made with an unknown key, tampered with, or belongs to another field."""


@dataclass(frozen=True)
class KeyRing:
    primary_kid: str
    _keys: dict[str, AESGCM]

    @classmethod
    def from_setting(cls, value: str) -> KeyRing:
        entries = [part.strip() for part in value.split(",") if part.strip()]
        if not entries:
            raise KeyConfigError(
                "TOKEN_ENCRYPTION_KEYS is not set: expected 'kid:base64key[,kid2:base64key]'"
            )
        keys: dict[str, AESGCM] = {}
        for position, entry in enumerate(entries, start=1):
            kid, key = _parse_entry(entry, position)
            if kid in keys:
                raise KeyConfigError(f"TOKEN_ENCRYPTION_KEYS lists key id {kid!r} twice")
            keys[kid] = AESGCM(key)
        return cls(primary_kid=_parse_entry(entries[0], 1)[0], _keys=keys)

    def encrypt(self, plaintext: str, *, owner: str, field: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self.primary_kid].encrypt(nonce, plaintext.encode(), _aad(owner, field))
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_VERSION}.{self.primary_kid}.{body}"

    def decrypt(self, ciphertext: str, *, owner: str, field: str) -> str:
        version, kid, body = _split(ciphertext)
        if version != _VERSION:
            raise DecryptionError(f"unknown ciphertext version {version!r} in {field}")
        if kid not in self._keys:
            raise DecryptionError(
                f"{field} was encrypted with key {kid!r}, which TOKEN_ENCRYPTION_KEYS lacks"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise DecryptionError(f"{field} is not valid base64url") from None
        if len(raw) < _NONCE_BYTES + 16:
            raise DecryptionError(f"{field} is too short to be a ciphertext")
        try:
            plain = self._keys[kid].decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(owner, field))
        except InvalidTag:
            raise DecryptionError(f"{field} does not belong to {owner} or was altered") from None
        return plain.decode()


def generate_key(kid: str = "k1") -> str:
    """A fresh "kid:base64key" entry for TOKEN_ENCRYPTION_KEYS (README, infra)."""
    if not _KID.match(kid):
        raise KeyConfigError("a key id is 1-32 letters, digits, '-' or '_'")
    return f"{kid}:{base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode()}"


def _parse_entry(entry: str, position: int) -> tuple[str, bytes]:
    kid, sep, encoded = entry.partition(":")
    kid, encoded = kid.strip(), encoded.strip()
    if not sep or not encoded:
        raise KeyConfigError(f"TOKEN_ENCRYPTION_KEYS entry {position} is not 'kid:base64key'")
    if not _KID.match(kid):
        raise KeyConfigError(
            f"TOKEN_ENCRYPTION_KEYS entry {position}: a key id is 1-32 letters, digits, '-', '_'"
        )
    key = _decode_key(encoded)
    if key is None:
        raise KeyConfigError(f"TOKEN_ENCRYPTION_KEYS key {kid!r} is not valid base64")
    if len(key) != _KEY_BYTES:
        raise KeyConfigError(
            f"TOKEN_ENCRYPTION_KEYS key {kid!r} is {len(key)} bytes; AES-256 needs {_KEY_BYTES}"
        )
    return kid, key


def _decode_key(encoded: str) -> bytes | None:
    # Accept standard and URL-safe base64, with or without padding.
    standard = encoded.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _split(ciphertext: str) -> tuple[str, str, str]:
    parts = ciphertext.split(".")
    if len(parts) != 3 or not all(parts):
        raise DecryptionError("ciphertext is not 'v1.<kid>.<data>'")
    return parts[0], parts[1], parts[2]


def _aad(owner: str, field: str) -> bytes:
    return f"{owner}\x1f{field}".encode()
