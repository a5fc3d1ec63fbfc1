"""Attack and rotation tests for issue 16 (webhook keys): the hashes of webhook keys have a key ring of
their own, so rotating SESSION_SECRET after a leak no longer turns every webhook into a 401 (which
Dynamics does not retry); the ring itself rotates; a rotated key's old value works only for the overlap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from shared.config import Settings
from shared.connections.install_service import KEY_OVERLAP, install_for_account
from shared.crypto import generate_key
from shared.store.connections import ConnectionStore
from shared.store.models import utc_now
from shared.store.webhook_keys import WebhookKeyConfigError, WebhookKeyRing, connection_webhook_key
from tests.integration.connection_helpers import World, connect_dynamics

OLD_RING = "w1:first-webhook-key-secret-0123456789abcdef"
NEW_RING = "w2:second-webhook-key-secret-0123456789abcde," + OLD_RING


@pytest.fixture
def stores(storage_connection: str, unique_name: str) -> Callable[[str, str], ConnectionStore]:
    keys = generate_key("k1")

    def make(session_secret: str, ring: str) -> ConnectionStore:
        env = {
            "AzureWebJobsStorage": storage_connection,
            "TABLE_PREFIX": unique_name,
            "TOKEN_ENCRYPTION_KEYS": keys,
            "SESSION_SECRET": session_secret,
            "WEBHOOK_KEY_SECRETS": ring,
        }
        return ConnectionStore.from_settings(Settings.from_env(env))

    return make


def test_rotating_the_session_secret_leaves_webhooks_working(
    stores: Callable[[str, str], ConnectionStore],
) -> None:
    before = stores("leaked-session-secret", OLD_RING)
    connection = before.create("acct-a", "Main")
    key = connection_webhook_key(connection.id)
    saved = before.set_webhook_key(connection.id, key)
    assert saved.dynamics.webhook_key_id == "w1" and key not in saved.dynamics.webhook_key_hash
    # WHEN the session secret is replaced after a leak
    after = stores("brand-new-session-secret", OLD_RING)
    # THEN Dynamics's key still verifies, and a guess does not
    assert after.verify_webhook_key(after.require(connection.id), key)
    assert not after.verify_webhook_key(after.require(connection.id), key + "x")


def test_the_webhook_ring_rotates_and_a_dropped_secret_verifies_nothing(
    stores: Callable[[str, str], ConnectionStore],
) -> None:
    old = stores("s", OLD_RING)
    connection = old.create("acct-a", "Main")
    key = connection_webhook_key(connection.id)
    old.set_webhook_key(connection.id, key)
    rotated = stores("s", NEW_RING)
    assert rotated.verify_webhook_key(rotated.require(connection.id), key)  # w1 still listed
    fresh = rotated.create("acct-a", "Second")
    fresh_key = connection_webhook_key(fresh.id)
    assert rotated.set_webhook_key(fresh.id, fresh_key).dynamics.webhook_key_id == "w2"
    only_new = stores("s", NEW_RING.split(",")[0])
    assert not only_new.verify_webhook_key(only_new.require(connection.id), key)
    assert only_new.verify_webhook_key(only_new.require(fresh.id), fresh_key)


def test_a_hash_made_before_the_ring_verifies_with_the_session_secrets() -> None:
    from shared.store.models import Connection

    legacy = WebhookKeyRing.from_settings("", "old-session-secret")
    connection = Connection(id="3f2504e0-4f89-11d3-9a0c-0305e82c3301", account_id="a")
    key = connection_webhook_key(connection.id)
    # what main stored before issue 16: HMAC with SESSION_SECRET and no kid
    import hashlib
    import hmac

    connection.dynamics.webhook_key_hash = hmac.new(
        b"old-session-secret", f"{connection.id}\x1f{key}".encode(), hashlib.sha256
    ).hexdigest()
    now = utc_now()
    assert legacy.verify(connection, key, now)
    assert WebhookKeyRing.from_settings(OLD_RING, "new-secret,old-session-secret").verify(
        connection, key, now
    )
    assert not WebhookKeyRing.from_settings(OLD_RING, "new-secret").verify(connection, key, now)
    with pytest.raises(WebhookKeyConfigError):
        legacy.hash(connection.id, key)  # new keys need the ring
    with pytest.raises(WebhookKeyConfigError):
        WebhookKeyRing.from_settings("w1:short")


def _install(world: World, connection_id: str, rotate: bool = False) -> None:
    install_for_account(world.store, "acct-a", connection_id, world.settings, world.session, rotate)


def _registered_key(world: World) -> str:
    (endpoint,) = world.dataverse.state.rows("contoso", "serviceendpoints")
    return str(endpoint["authvalue"])


def test_rotate_webhook_key_gives_dynamics_a_new_key_and_the_old_one_expires(world: World) -> None:
    connection = world.new_connection()
    connect_dynamics(world, connection.id)
    _install(world, connection.id)
    old_key = _registered_key(world)
    # WHEN the customer presses "Rotate webhook key"
    _install(world, connection.id, rotate=True)
    new_key = _registered_key(world)
    stored = world.reload(connection)
    ring = WebhookKeyRing.from_settings(world.settings.webhook_key_secrets, world.settings.session_secret)
    # THEN Dynamics holds a new key, which verifies; the old one verifies only within the overlap
    assert new_key != old_key and world.store.verify_webhook_key(stored, new_key)
    assert world.store.verify_webhook_key(stored, old_key)
    later = utc_now() + KEY_OVERLAP + timedelta(seconds=1)
    assert ring.verify(stored, new_key, later) and not ring.verify(stored, old_key, later)
