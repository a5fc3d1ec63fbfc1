"""Install into Dynamics for a connection: tables, columns, the webhook and its steps (shared.dataverse.
install), plus what the connection remembers about it (key hash, webhook_registered, privileges missing).

Webhook keys are "<connection id>.<random>", so the webhook function finds the connection from the key
alone with one point read, then checks the key against the stored hash. A new key is made only when the
connection has no hash of the registered key, or on `rotate_key`; otherwise the registered key stays and
a second run changes nothing, in Dynamics or in the table.

A rotation ("Rotate webhook key") stores the new key's hash before Dynamics gets the key, keeping the
old one valid for KEY_OVERLAP: deliveries on their way with either key are accepted, and there is no
moment when Dynamics sends a key we would refuse. If the new key never reaches Dynamics, the old one is
the key again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import requests

from shared.config import Settings
from shared.connections.connections import get_for_account
from shared.connections.dynamics_access import dataverse_client_for, mark_reconnect_required
from shared.connections.time_zone_proposal import XeroFor, organisation_time_zone, propose_time_zone
from shared.dataverse.client import DataverseClient
from shared.dataverse.install import MissingPrivilegesError, install
from shared.dataverse.privileges import MissingPrivilege, check_privileges
from shared.errors import ReconnectRequired
from shared.store.connections import ConnectionStore
from shared.store.models import Connection
from shared.store.webhook_keys import connection_webhook_key

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/dynamics/webhook"
KEY_OVERLAP = timedelta(hours=1)


@dataclass(frozen=True)
class InstallOutcome:
    changes: list[str] = field(default_factory=list)  # what this run did, for the page; empty: nothing
    # Install privileges when it stopped short (nothing installed); else what the sync itself will lack.
    missing_privileges: list[MissingPrivilege] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # definitions left alone (another type)


def webhook_url(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}{WEBHOOK_PATH}"  # Dataverse appends ?code=<key>


def install_for_account(
    store: ConnectionStore,
    account_id: str,
    connection_id: str,
    settings: Settings,
    session: requests.Session,
    rotate_key: bool = False,
    xero_for: XeroFor | None = None,
) -> InstallOutcome:
    """What the "Install into Dynamics" button calls: NotFoundError for another account's connection."""
    connection = get_for_account(store, account_id, connection_id)
    client = dataverse_client_for(connection, store, settings, session)
    return install_into_dynamics(
        store, connection, client, settings, rotate_key=rotate_key, xero_for=xero_for
    )


def install_into_dynamics(
    store: ConnectionStore,
    connection: Connection,
    client: DataverseClient,
    settings: Settings,
    rotate_key: bool = False,
    xero_for: XeroFor | None = None,
) -> InstallOutcome:
    had_key = bool(connection.dynamics.webhook_key_hash)
    new_key = rotate_key or not had_key
    key = connection_webhook_key(connection.id)
    rotating = rotate_key and had_key
    if rotating:  # accepted from now on, the old key for KEY_OVERLAP more
        store.set_webhook_key(connection.id, key, keep_previous_for=KEY_OVERLAP)
    try:
        report = install(client, webhook_url(settings), key, rotate_key=new_key, connection_id=connection.id)
        runtime_missing = check_privileges(client)
    except MissingPrivilegesError as refused:
        _undo_rotation(store, connection.id, rotating)
        missing = _union(refused.missing, check_privileges(client))
        _remember(store, connection.id, registered=connection.dynamics.webhook_registered, missing=missing)
        log.info("connection %s: install stopped, %d privileges missing", connection.id, len(missing))
        return InstallOutcome(missing_privileges=missing)
    except ReconnectRequired as refused:
        _undo_rotation(store, connection.id, rotating)
        mark_reconnect_required(store, connection.id, refused.reason)
        raise
    except Exception:
        _undo_rotation(store, connection.id, rotating)
        raise
    if rotating and not report.key_written:
        _undo_rotation(store, connection.id, rotating)
    elif report.key_written and not rotating:
        store.set_webhook_key(connection.id, key)
    _remember(store, connection.id, registered=True, missing=runtime_missing)
    xero = (lambda: organisation_time_zone(xero_for(connection))) if xero_for else (lambda: None)
    proposed = propose_time_zone(store, connection.id, client, xero)
    log.info("connection %s: installed into Dynamics, %d changes", connection.id, len(report.changes))
    return InstallOutcome([*report.changes, *proposed], runtime_missing, list(report.problems))


def _undo_rotation(store: ConnectionStore, connection_id: str, rotating: bool) -> None:
    if rotating:
        store.restore_previous_webhook_key(connection_id)
        log.warning(
            "connection %s: the new webhook key did not reach Dynamics; the old one stays", connection_id
        )


def _remember(
    store: ConnectionStore, connection_id: str, registered: bool, missing: list[MissingPrivilege]
) -> None:
    names = [m.name for m in missing]
    current = store.require(connection_id).dynamics
    if current.webhook_registered == registered and current.privileges_missing == names:
        return  # nothing to write: a repeated install leaves the row as it was

    def apply(connection: Connection) -> None:
        connection.dynamics.webhook_registered = registered
        connection.dynamics.privileges_missing = names

    store.update(connection_id, apply)


def _union(first: list[MissingPrivilege], second: list[MissingPrivilege]) -> list[MissingPrivilege]:
    seen = {m.privilege for m in first}
    return [*first, *(m for m in second if m.privilege not in seen)]
