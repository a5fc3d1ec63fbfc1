"""Token encryption: round trip, key rotation, binding to (owner, field), clear errors for bad settings."""

from __future__ import annotations

import base64

import pytest

from shared.crypto import DecryptionError, KeyConfigError, KeyRing, generate_key

OLD = generate_key("old")
NEW = generate_key("new")


def test_round_trip_hides_the_plaintext_and_names_the_key() -> None:
    ring = KeyRing.from_setting(NEW)

    sealed = ring.encrypt("refresh-token-123", owner="conn-1", field="xero_refresh_token")

    assert sealed.startswith("v1.new.")
    assert "refresh-token-123" not in sealed
    assert ring.decrypt(sealed, owner="conn-1", field="xero_refresh_token") == "refresh-token-123"


def test_each_encryption_uses_a_fresh_nonce() -> None:
    ring = KeyRing.from_setting(NEW)

    first = ring.encrypt("same", owner="c", field="f")
    second = ring.encrypt("same", owner="c", field="f")

    assert first != second


def test_rotation_new_key_encrypts_old_key_still_decrypts() -> None:
    # GIVEN a value sealed before the rotation
    before = KeyRing.from_setting(OLD).encrypt("token", owner="c", field="f")
    # WHEN a new key is put first
    after = KeyRing.from_setting(f"{NEW},{OLD}")

    # THEN old values still open and new ones use the new key
    assert after.decrypt(before, owner="c", field="f") == "token"
    assert after.encrypt("token", owner="c", field="f").startswith("v1.new.")


def test_a_dropped_key_is_named_in_the_error() -> None:
    sealed = KeyRing.from_setting(OLD).encrypt("token", owner="c", field="f")

    with pytest.raises(DecryptionError, match="'old'"):
        KeyRing.from_setting(NEW).decrypt(sealed, owner="c", field="f")


@pytest.mark.parametrize(
    ("owner", "field"), [("conn-2", "xero_refresh_token"), ("conn-1", "xero_access_token")]
)
def test_a_ciphertext_moved_to_another_connection_or_field_does_not_open(owner: str, field: str) -> None:
    ring = KeyRing.from_setting(NEW)
    sealed = ring.encrypt("token", owner="conn-1", field="xero_refresh_token")

    with pytest.raises(DecryptionError):
        ring.decrypt(sealed, owner=owner, field=field)


def test_a_tampered_ciphertext_does_not_open() -> None:
    ring = KeyRing.from_setting(NEW)
    sealed = ring.encrypt("token", owner="c", field="f")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]

    with pytest.raises(DecryptionError):
        ring.decrypt(flipped, owner="c", field="f")


@pytest.mark.parametrize("garbage", ["", "plain", "v1.new", "v2.new.abcd", "v1.new.!!!!", "v1.new.AAAA"])
def test_malformed_ciphertexts_raise_decryption_error(garbage: str) -> None:
    with pytest.raises(DecryptionError):
        KeyRing.from_setting(NEW).decrypt(garbage, owner="c", field="f")


SHORT_KEY = base64.b64encode(b"x" * 16).decode()
SECRET_LOOKING = base64.b64encode(b"s" * 32).decode()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("", "not set"),
        (" , ", "not set"),
        (SECRET_LOOKING, "not 'kid:base64key'"),
        (f"k1:{SHORT_KEY}", "16 bytes"),
        ("k1:not base64 at all!", "not valid base64"),
        (f"bad.kid:{SECRET_LOOKING}", "key id"),
        (f"k1:{SECRET_LOOKING},k1:{SECRET_LOOKING}", "twice"),
    ],
)
def test_bad_key_settings_explain_themselves_without_showing_the_key(setting: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=message) as raised:
        KeyRing.from_setting(setting)

    assert SECRET_LOOKING not in str(raised.value)
    assert SHORT_KEY not in str(raised.value)


def test_urlsafe_and_unpadded_keys_are_accepted() -> None:
    raw = bytes(range(200, 232))
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")

    ring = KeyRing.from_setting(f"k1:{urlsafe}")

    assert ring.decrypt(ring.encrypt("x", owner="c", field="f"), owner="c", field="f") == "x"


def test_generated_keys_are_valid_settings_and_differ() -> None:
    first, second = generate_key("a"), generate_key("a")

    assert first != second
    assert KeyRing.from_setting(first).primary_kid == "a"
