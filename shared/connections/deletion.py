"""Deleting a connection: what the connector set up on either side is taken away where it can be, then
the row goes.

Decision: Xero is disconnected (the organisation leaves the app's connections, the sign-in is revoked).
In Dynamics the webhook (its service endpoint and the steps bound to it) is removed, so Dynamics stops
calling us; the Xero tables and the Xero columns on invoices stay, because they hold the customer's data
(each invoice's Xero number and link). When the webhook cannot be removed (signed out, Dynamics down),
the row is deleted all the same and the page says what is left and how to remove it by hand; calls the
webhook makes afterwards are refused (no connection matches its key). Each connection has a webhook of
its own (install_plan.endpoint_name): only this one's is removed, never another connection's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.connections.connections import get_for_account
from shared.connections.lights import is_xero_connected
from shared.dataverse import install_plan as plan
from shared.dataverse.client import DataverseClient
from shared.dataverse.uninstall import remove_own_webhook
from shared.errors import ConnectorError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection

log = logging.getLogger(__name__)

WEBHOOK_LEFT = (
    "The connector's webhook could not be removed from Dynamics ({why}). Dynamics keeps calling it and "
    "the calls are refused; to remove it, delete the service endpoint “{name}” with the Plug-in "
    "Registration Tool."
)
XERO_LEFT = "Xero could not be told ({why}). Remove the connector under Settings → Connected apps in Xero."


def delete_connection(
    store: ConnectionStore,
    account_id: str,
    connection_id: str,
    disconnect_xero: Callable[[str, str], object],
    dynamics_client: Callable[[Connection], DataverseClient],
) -> list[str]:
    """Disconnect Xero, remove the webhook from Dynamics, delete the row: what could not be undone, in
    words for the customer (empty when everything went). NotFoundError for another account's connection."""
    connection = get_for_account(store, account_id, connection_id)
    left: list[str] = []
    if is_xero_connected(connection.xero):
        try:
            disconnect_xero(account_id, connection_id)
        except ConnectorError as error:
            left.append(XERO_LEFT.format(why=error))
    if connection.dynamics.webhook_registered:
        try:
            remove_own_webhook(dynamics_client(connection), connection.id)
        except ConnectorError as error:
            log.warning("connection %s: webhook not removed: %s", connection_id, type(error).__name__)
            left.append(WEBHOOK_LEFT.format(why=error, name=plan.endpoint_name(connection.id)))
    store.delete(connection_id)
    log.info("connection %s deleted", connection_id)
    return left
