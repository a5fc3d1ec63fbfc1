"""The connections table on a real Azurite: round trip, conditional writes, encryption at rest."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import ResourceNotFoundError

from shared.config import Settings
from shared.errors import ConcurrencyError
from shared.store.codec import CHUNK_CHARS
from shared.store.connections import ConnectionStore
from shared.store.models import Connection, Problem
from shared.store.sync_settings import InvoiceStatus, SyncSettings, TaxMode
from shared.store.tables import ACCOUNTS, CONNECTIONS, OAUTH_STATE, table_service
from shared.store.webhook_keys import new_webhook_key

ACCESS = "eyJhbGciOiJSUzI1NiJ9.access-token-plaintext-0001"
REFRESH = "refresh-token-plaintext-0002"
MSAL = '{"RefreshToken": {"k": {"secret": "msal-refresh-secret-0003"}}}'
APP_SECRET = "app-client-secret-0004"


@pytest.fixture
def store(store_settings: Settings) -> ConnectionStore:
    return ConnectionStore.from_settings(store_settings)


def _fill(connection: Connection) -> None:
    """Set every kind of field to a non-default value."""
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    connection.status, connection.trial_ends_at = "active", moment
    xero = connection.xero
    xero.tenant_id, xero.organisation_name, xero.connection_id = "tenant-1", "Demo Company (NZ)", "xc-1"
    xero.scopes = ["offline_access", "accounting.invoices"]
    xero.access_token, xero.access_token_expires_at, xero.refresh_token = ACCESS, moment, REFRESH
    xero.error = Problem("Xero said no", "Reconnect to Xero")
    dyn = connection.dynamics
    dyn.org_url, dyn.organisation_id, dyn.environment_name = "https://org.crm.dynamics.com", "org-1", "Prod"
    dyn.tenant_id, dyn.auth_mode, dyn.msal_cache = "aad-tenant", "app", MSAL
    dyn.app_client_id, dyn.app_client_secret = "app-id", APP_SECRET
    dyn.webhook_registered, dyn.privileges_missing = True, ["prvReadInvoice"]
    connection.sync = SyncSettings(
        time_zone="Pacific/Auckland", invoice_status=InvoiceStatus.AUTHORISED, tax_mode=TaxMode.INCLUSIVE
    )
    connection.reference.last_refresh_at, connection.reference.counts = (
        moment,
        {"taxrates": 7, "accounts": 40},
    )


def test_a_connection_round_trips_every_field(store: ConnectionStore) -> None:
    # GIVEN a connection with every field set
    created = store.create("account-1", name="Main", plan="trial")
    _fill(created)
    store.save(created)

    # WHEN it is read back
    loaded = store.require(created.id)

    # THEN it is equal field by field (etag aside)
    assert loaded == created
    assert loaded.sync.tax_mode is TaxMode.INCLUSIVE
    assert loaded.reference.last_refresh_at == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert loaded.etag == created.etag


def test_no_table_holds_a_token_or_secret_in_plaintext(
    store: ConnectionStore, store_settings: Settings
) -> None:
    # GIVEN a saved connection holding tokens, an MSAL cache and an app secret
    connection = store.create("account-1")
    _fill(connection)
    store.save(connection)

    # WHEN every raw entity of every table is scanned
    service = table_service(store_settings)
    raw_values: list[str] = []
    for base in (ACCOUNTS, CONNECTIONS, OAUTH_STATE):
        table = service.get_table_client(store_settings.table_prefix + base)
        try:
            raw_values += [str(value) for entity in table.list_entities() for value in entity.values()]
        except ResourceNotFoundError:  # a table nobody created yet holds nothing
            continue

    # THEN none of the secrets appears anywhere, while ordinary metadata does
    everything = "\n".join(raw_values)
    assert "Demo Company (NZ)" in everything
    for plaintext in (ACCESS, REFRESH, "msal-refresh-secret-0003", APP_SECRET):
        assert plaintext not in everything


def test_a_large_msal_cache_is_split_and_reassembled(store: ConnectionStore) -> None:
    connection = store.create("account-1")
    connection.dynamics.msal_cache = "x" * (CHUNK_CHARS * 2)
    store.save(connection)

    assert store.require(connection.id).dynamics.msal_cache == "x" * (CHUNK_CHARS * 2)
    # A shorter value replaces it completely (no chunk of the old value survives).
    connection.dynamics.msal_cache = "short"
    store.save(connection)
    assert store.require(connection.id).dynamics.msal_cache == "short"


def test_a_stale_write_raises_concurrency_error_and_changes_nothing(store: ConnectionStore) -> None:
    # GIVEN two readers of the same row
    first = store.create("account-1", name="before")
    second = store.require(first.id)
    # WHEN the first saves
    first.name = "first"
    store.save(first)
    # THEN the second, still at the old version, loses
    second.name = "second"
    with pytest.raises(ConcurrencyError):
        store.save(second)
    assert store.require(first.id).name == "first"


def test_update_reapplies_after_a_lost_race(store: ConnectionStore) -> None:
    # GIVEN 8 threads each adding one to the same counter
    connection = store.create("account-1")
    start = threading.Barrier(8)

    def count(c: Connection) -> None:
        c.reference.counts["n"] = c.reference.counts.get("n", 0) + 1

    def push() -> None:
        start.wait()
        store.update(connection.id, count, retries=20)

    threads = [threading.Thread(target=push) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN no increment was lost
    assert store.require(connection.id).reference.counts["n"] == 8


def test_list_for_account_and_list_active(store: ConnectionStore) -> None:
    mine_draft = store.create("account-a", name="one")
    mine_active = store.create("account-a", name="two")
    store.update(mine_active.id, lambda c: setattr(c, "status", "active"))
    theirs = store.create("account-b")

    assert [c.id for c in store.list_for_account("account-a")] == [mine_draft.id, mine_active.id]
    assert [c.id for c in store.list_active()] == [mine_active.id]
    assert theirs.id not in {c.id for c in store.list_for_account("account-a")}


def test_webhook_key_is_verified_but_never_stored(store: ConnectionStore) -> None:
    connection = store.create("account-1")
    assert not store.verify_webhook_key(connection, "anything")  # no key registered yet

    key = new_webhook_key()
    saved = store.set_webhook_key(connection.id, key)

    assert key not in saved.dynamics.webhook_key_hash
    assert store.verify_webhook_key(saved, key)
    assert not store.verify_webhook_key(saved, key + "x")
    other = store.create("account-1")
    other.dynamics.webhook_key_hash = saved.dynamics.webhook_key_hash
    assert not store.verify_webhook_key(other, key)  # the hash is bound to its connection


def test_deleted_connection_is_gone(store: ConnectionStore) -> None:
    connection = store.create("account-1", trial_ends_at=datetime.now(UTC) + timedelta(days=14))
    store.delete(connection.id)
    assert store.get(connection.id) is None
