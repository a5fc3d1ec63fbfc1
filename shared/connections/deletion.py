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
from shared.dataverse.install_webhook import odata_string
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
            remove_webhook(dynamics_client(connection), connection.id)
        except ConnectorError as error:
            log.warning("connection %s: webhook not removed: %s", connection_id, type(error).__name__)
            left.append(WEBHOOK_LEFT.format(why=error, name=plan.endpoint_name(connection.id)))
    store.delete(connection_id)
    log.info("connection %s deleted", connection_id)
    return left


def remove_webhook(client: DataverseClient, connection_id: str) -> int:
    """Delete this connection's service endpoint and its steps (steps first: whether Dataverse deletes an
    endpoint with steps bound to it in one call is unverified, so the stricter order). Rows deleted."""
    name = odata_string(plan.endpoint_name(connection_id))
    endpoints = client.get_all(f"serviceendpoints?$select=serviceendpointid&$filter=name eq {name}")
    removed = 0
    for endpoint in endpoints:
        endpoint_id = str(endpoint["serviceendpointid"])
        steps = client.get_all(
            "sdkmessageprocessingsteps?$select=sdkmessageprocessingstepid"
            f"&$filter=_eventhandler_value eq {endpoint_id}"
        )
        for step in steps:
            removed += client.delete("sdkmessageprocessingsteps", str(step["sdkmessageprocessingstepid"]))
        removed += client.delete("serviceendpoints", endpoint_id)
    return removed
