"""The connections table: one row per connection, PartitionKey = connection id, so the webhook and the
worker find a connection with one point read. Every write is conditional on the ETag it was read at."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient

from shared.config import Settings
from shared.crypto import KeyRing
from shared.errors import ConcurrencyError, NotFoundError
from shared.store.codec import EntityCodec
from shared.store.models import Connection, utc_now
from shared.store.tables import CONNECTIONS, replace_if_unchanged, table_client
from shared.store.webhook_keys import WebhookKeyRing

ROW_KEY = "connection"


class ConnectionStore:
    def __init__(
        self,
        table: TableClient,
        keys: KeyRing,
        webhook_keys: WebhookKeyRing,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._table = table
        self._codec = EntityCodec(Connection, keys)
        self._webhook_keys, self._clock = webhook_keys, clock

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionStore:
        keys = KeyRing.from_setting(settings.token_encryption_keys)
        ring = WebhookKeyRing.from_settings(settings.webhook_key_secrets, settings.session_secret)
        return cls(table_client(settings, CONNECTIONS), keys, ring)

    def create(
        self, account_id: str, name: str = "", plan: str = "", trial_ends_at: datetime | None = None
    ) -> Connection:
        connection = Connection(
            id=str(uuid.uuid4()), account_id=account_id, name=name, plan=plan, trial_ends_at=trial_ends_at
        )
        answer = self._table.create_entity(self._entity(connection))
        connection.etag = answer["etag"]
        return connection

    def get(self, connection_id: str) -> Connection | None:
        try:
            entity = self._table.get_entity(connection_id, ROW_KEY)
        except ResourceNotFoundError:
            return None
        return self._from_entity(entity)

    def require(self, connection_id: str) -> Connection:
        connection = self.get(connection_id)
        if connection is None:
            raise NotFoundError(f"connection {connection_id} does not exist")
        return connection

    def save(self, connection: Connection) -> Connection:
        """Replace the row if nobody changed it since `connection` was read; ConcurrencyError otherwise."""
        if connection.etag is None:
            raise ValueError("save() needs a connection read from the store (it has no ETag)")
        try:
            answer = replace_if_unchanged(self._table, self._entity(connection), connection.etag)
        except ResourceModifiedError:
            raise ConcurrencyError(f"connection {connection.id} changed since it was read") from None
        except ResourceNotFoundError:
            raise NotFoundError(f"connection {connection.id} does not exist") from None
        connection.etag = answer["etag"]
        return connection

    def update(
        self, connection_id: str, mutate: Callable[[Connection], None], retries: int = 5
    ) -> Connection:
        """Read, apply `mutate`, save; on a lost race read again and re-apply (for non-token fields)."""
        for _ in range(retries):
            connection = self.require(connection_id)
            mutate(connection)
            try:
                return self.save(connection)
            except ConcurrencyError:
                continue
        raise ConcurrencyError(f"connection {connection_id}: {retries} writes in a row lost their race")

    def delete(self, connection_id: str) -> None:
        self._table.delete_entity(connection_id, ROW_KEY)

    def list_for_account(self, account_id: str) -> list[Connection]:
        found = self._query("account_id eq @account", {"account": account_id})
        return sorted(found, key=lambda c: c.created_at)

    def list_active(self) -> list[Connection]:
        return list(self._query("status eq @status", {"status": "active"}))

    def list_for_xero_tenant(self, tenant_id: str) -> list[Connection]:
        """Every connection to one Xero organisation (Xero's webhooks name the organisation only)."""
        return list(self._query("xero_tenant_id eq @tenant", {"tenant": tenant_id}))

    def set_webhook_key(
        self, connection_id: str, key: str, keep_previous_for: timedelta | None = None
    ) -> Connection:
        """Store the hash of `key` (with the ring's current kid). With `keep_previous_for`, the key it
        replaces stays valid that long (a rotation's overlap); otherwise it stops at once."""
        kid, digest = self._webhook_keys.hash(connection_id, key)
        until = self._clock() + keep_previous_for if keep_previous_for else None

        def apply(connection: Connection) -> None:
            dynamics = connection.dynamics
            if until is not None and dynamics.webhook_key_hash:
                dynamics.previous_webhook_key_hash = dynamics.webhook_key_hash
                dynamics.previous_webhook_key_id = dynamics.webhook_key_id
                dynamics.previous_webhook_key_until = until
            elif until is None:
                dynamics.previous_webhook_key_hash, dynamics.previous_webhook_key_id = "", ""
                dynamics.previous_webhook_key_until = None
            dynamics.webhook_key_hash, dynamics.webhook_key_id = digest, kid

        return self.update(connection_id, apply)

    def restore_previous_webhook_key(self, connection_id: str) -> Connection:
        """Undo a rotation whose new key never reached Dynamics: the previous key is the key again."""

        def apply(connection: Connection) -> None:
            dynamics = connection.dynamics
            if dynamics.previous_webhook_key_hash:
                dynamics.webhook_key_hash = dynamics.previous_webhook_key_hash
                dynamics.webhook_key_id = dynamics.previous_webhook_key_id
                dynamics.previous_webhook_key_hash, dynamics.previous_webhook_key_id = "", ""
                dynamics.previous_webhook_key_until = None

        return self.update(connection_id, apply)

    def verify_webhook_key(self, connection: Connection, presented: str) -> bool:
        return self._webhook_keys.verify(connection, presented, self._clock())

    def _query(self, query: str, parameters: dict[str, Any]) -> Iterator[Connection]:
        for entity in self._table.query_entities(query, parameters=parameters):
            yield self._from_entity(entity)

    def _entity(self, connection: Connection) -> dict[str, Any]:
        properties = self._codec.to_properties(connection, owner=connection.id)
        return {"PartitionKey": connection.id, "RowKey": ROW_KEY, **properties}

    def _from_entity(self, entity: Any) -> Connection:
        connection = self._codec.from_properties(entity, owner=entity["PartitionKey"])
        connection.etag = entity.metadata["etag"]
        return connection
