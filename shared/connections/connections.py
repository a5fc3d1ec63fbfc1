"""Creating a connection, reading it on behalf of an account, its sync settings and activating it.

Tenant isolation: every read by an account goes through get_for_account, which answers another account's
connection exactly like a missing one (same exception, same message), so ids cannot be probed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from shared.connections.lights import lights
from shared.connections.sync_form import ValidationFailed, apply_form
from shared.errors import FatalError, NotFoundError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection
from shared.store.plans import TRIAL_LENGTH, plan_named

Clock = Callable[[], datetime]
NAME_LIMIT = 100
_CONNECTION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class NotReadyToActivate(FatalError):
    """Activation needs both sides green: `missing` lists what to do first, in the lights' words."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("Before this connection can start: " + "; ".join(missing) + ".")
        self.missing = missing


def create_connection(
    store: ConnectionStore, account_id: str, name: str, plan: str, clock: Clock
) -> Connection:
    """A draft connection on `plan`, its 14-day trial starting now."""
    errors: dict[str, str] = {}
    clean_name = " ".join(name.split())
    if not clean_name:
        errors["name"] = "Give the connection a name."
    elif len(clean_name) > NAME_LIMIT:
        errors["name"] = f"Use at most {NAME_LIMIT} characters."
    chosen = plan_named(plan)
    if chosen is None:
        errors["plan"] = "Choose a plan."
    if errors or chosen is None:
        raise ValidationFailed(errors)
    return store.create(account_id, name=clean_name, plan=chosen.name, trial_ends_at=clock() + TRIAL_LENGTH)


def get_for_account(store: ConnectionStore, account_id: str, connection_id: str) -> Connection:
    """The connection if it belongs to `account_id`; NotFoundError otherwise, whoever owns it."""
    # Only well-formed ids reach the table: a key with '/' or '#' would fail differently and tell.
    found = store.get(connection_id) if _CONNECTION_ID.match(connection_id or "") else None
    if found is None or not account_id or found.account_id != account_id:
        raise NotFoundError(f"connection {connection_id} does not exist")
    return found


def list_for_account(store: ConnectionStore, account_id: str) -> list[Connection]:
    return store.list_for_account(account_id) if account_id else []


def update_for_account(
    store: ConnectionStore, account_id: str, connection_id: str, mutate: Callable[[Connection], None]
) -> Connection:
    """Apply `mutate` to the account's connection with an ETag-conditional write (re-applied on a race)."""
    get_for_account(store, account_id, connection_id)

    def guarded(connection: Connection) -> None:
        if connection.account_id != account_id:  # cannot change owner, but never write across accounts
            raise NotFoundError(f"connection {connection_id} does not exist")
        mutate(connection)

    return store.update(connection_id, guarded)


def update_sync_settings(
    store: ConnectionStore, account_id: str, connection_id: str, form: Mapping[str, Any]
) -> Connection:
    """Validate the whole form first (ValidationFailed), then save it."""
    current = get_for_account(store, account_id, connection_id)
    apply_form(current.sync, form)  # raises before anything is written

    def save(connection: Connection) -> None:
        connection.sync = apply_form(connection.sync, form)

    return update_for_account(store, account_id, connection_id, save)


def activate(store: ConnectionStore, account_id: str, connection_id: str, clock: Clock) -> Connection:
    """The connection starts syncing ("active") once both lights are green; else NotReadyToActivate."""
    connection = get_for_account(store, account_id, connection_id)
    missing = _what_is_missing(connection, clock())
    if missing:
        raise NotReadyToActivate(missing)

    def start(connection: Connection) -> None:
        still_missing = _what_is_missing(connection, clock())
        if still_missing:  # a side turned red between the read and the write
            raise NotReadyToActivate(still_missing)
        connection.status = "active"

    return update_for_account(store, account_id, connection_id, start)


def _what_is_missing(connection: Connection, now: datetime) -> list[str]:
    return [light.action_label for light in lights(connection, now) if not light.green]
