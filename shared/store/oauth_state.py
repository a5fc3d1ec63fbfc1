"""Short-lived, single-use OAuth `state` values for the Xero and Dynamics consent flows.

PartitionKey = the state itself (43 URL-safe characters). `consume` marks the row consumed with a write
conditional on the ETag it read (dropping its sealed secret), so when two callbacks race with the same
state exactly one wins; the used row goes with purge_expired. A state is consumed by its
first presentation even when that presentation is refused (wrong account or kind): a state seen in the
wrong session is treated as burnt and the flow must start again.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient

from shared.config import Settings
from shared.store.models import utc_now
from shared.store.tables import OAUTH_STATE, replace_if_unchanged, table_client

FlowKind = Literal["xero", "dynamics"]
ROW_KEY = "state"
LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class OAuthState:
    state: str
    kind: FlowKind
    account_id: str
    connection_id: str
    created_at: datetime
    expires_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


class OAuthStateStore:
    def __init__(self, table: TableClient, clock: Callable[[], datetime] = utc_now) -> None:
        self._table = table
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], datetime] = utc_now) -> OAuthStateStore:
        return cls(table_client(settings, OAUTH_STATE), clock)

    def create(
        self, kind: FlowKind, account_id: str, connection_id: str, extra: dict[str, Any] | None = None
    ) -> str:
        state, now = secrets.token_urlsafe(32), self._clock()
        self._table.create_entity(
            {
                "PartitionKey": state,
                "RowKey": ROW_KEY,
                "kind": kind,
                "account_id": account_id,
                "connection_id": connection_id,
                "extra": json.dumps(extra or {}),
                "created_at": now,
                "expires_at": now + LIFETIME,
            }
        )
        return state

    def consume(self, state: str, kind: FlowKind, account_id: str) -> OAuthState | None:
        """The record for `state` if it is this account's, of this kind and unexpired; None otherwise.
        Either way the state cannot be used again."""
        if not state or not state.replace("-", "").replace("_", "").isalnum():
            return None  # not one of ours; also keeps odd characters out of the key lookup
        try:
            entity = self._table.get_entity(state, ROW_KEY)
            if entity.get("consumed"):
                return None
            # A conditional update marks it used: two racing callbacks cannot both win (the SDK's delete
            # ignores 404, so a conditional delete alone could not tell them apart). The used row stays,
            # without its sealed secret, until purge_expired: a second "Allow" on Xero's page (the
            # browser's Back) then still leads to its connection, which says it is connected.
            kept = {name: entity[name] for name in _KEPT_WHEN_USED if name in entity}
            replace_if_unchanged(
                self._table,
                {"PartitionKey": state, "RowKey": ROW_KEY, **kept, "consumed": True},
                entity.metadata["etag"],
            )
        except (ResourceNotFoundError, ResourceModifiedError):
            return None  # unknown, or another request consumed it first
        record = _record(state, entity)
        if record.kind != kind or record.account_id != account_id or record.expires_at <= self._clock():
            return None
        return record

    def purge_expired(self, before_delete: Callable[[OAuthState], None] | None = None) -> int:
        """Delete abandoned states (housekeeping); returns how many went. `before_delete` sees each
        unconsumed one first (what it holds may need undoing: a Xero sign-in nobody finished)."""
        expired = self._table.query_entities("expires_at lt @now", parameters={"now": self._clock()})
        count = 0
        for entity in expired:
            try:
                if before_delete is not None and not entity.get("consumed"):
                    before_delete(_record(str(entity["PartitionKey"]), entity))
                self._table.delete_entity(entity["PartitionKey"], ROW_KEY)
                count += 1
            except ResourceNotFoundError:
                continue
        return count


_KEPT_WHEN_USED = ("kind", "account_id", "connection_id", "created_at", "expires_at")


def _record(state: str, entity: Any) -> OAuthState:
    return OAuthState(
        state=state,
        kind=entity["kind"],
        account_id=entity["account_id"],
        connection_id=entity["connection_id"],
        created_at=_utc(entity["created_at"]),
        expires_at=_utc(entity["expires_at"]),
        extra=json.loads(entity.get("extra") or "{}"),
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
