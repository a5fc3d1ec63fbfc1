"""Uninstall from Dynamics for a connection (shared.dataverse.uninstall), and what the connection then
remembers: its webhook is no longer registered, so the Dynamics light is no longer "installed" and a new
install gives the webhook a new key (the old key's hash is forgotten: that key was deleted with the
endpoint)."""

from __future__ import annotations

import logging

import requests

from shared.config import Settings
from shared.connections.connections import get_for_account
from shared.connections.dynamics_access import dataverse_client_for, mark_reconnect_required
from shared.dataverse.uninstall import UninstallReport, uninstall
from shared.errors import ReconnectRequired
from shared.store.connections import ConnectionStore
from shared.store.models import Connection, InstallProgress

log = logging.getLogger(__name__)


def uninstall_for_account(
    store: ConnectionStore,
    account_id: str,
    connection_id: str,
    settings: Settings,
    session: requests.Session,
) -> UninstallReport:
    """NotFoundError for another account's connection: one customer never uninstalls another's webhook."""
    connection = get_for_account(store, account_id, connection_id)
    client = dataverse_client_for(connection, store, settings, session)
    try:
        report = uninstall(client, connection.id)
    except ReconnectRequired as refused:
        mark_reconnect_required(store, connection.id, refused.reason)
        raise

    def forget(row: Connection) -> None:
        row.dynamics.webhook_registered = False
        row.dynamics.webhook_key_hash = ""  # a delivery still carrying the deleted key is refused
        row.dynamics.webhook_key_id = ""
        row.dynamics.previous_webhook_key_hash = ""
        row.dynamics.previous_webhook_key_id = ""
        row.dynamics.previous_webhook_key_until = None
        row.install = InstallProgress()  # an install run still on its way stops at its next step

    store.update(connection.id, forget)
    log.info("connection %s: uninstalled from Dynamics, %d removed", connection.id, len(report.removed))
    return report
