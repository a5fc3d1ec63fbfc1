"""The collaborators of this worker process, each built once, on first use (never at import: an import
error in function_app.py would hide every function, and heavy imports slow every cold start)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.config import get_settings

if TYPE_CHECKING:
    import requests
    from azure.storage.queue import QueueClient

    from shared.reference.worker import RefreshParts
    from shared.store.activity import ActivityLog
    from shared.store.connections import ConnectionStore
    from shared.store.models import Connection
    from shared.sync.worker import Collaborators
    from shared.sync.write_back import Dataverse
    from shared.xero.accounting import XeroAccounting
    from shared.xero.tokens import XeroTokens


def utc_now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def session() -> requests.Session:
    from shared.http import make_session

    return make_session(get_settings())


@functools.cache
def connections() -> ConnectionStore:
    from shared.store.connections import ConnectionStore

    return ConnectionStore.from_settings(get_settings())


@functools.cache
def activity() -> ActivityLog:
    from shared.store.activity import ActivityLog

    return ActivityLog.from_settings(get_settings())


@functools.cache
def invoice_queue() -> QueueClient:
    from shared.storage import queue_client

    settings = get_settings()
    client = queue_client(settings, settings.invoice_queue)
    _create_if_missing(client)
    return client


def _create_if_missing(client: QueueClient) -> None:
    from azure.core.exceptions import ResourceExistsError

    try:
        client.create_queue()
    except ResourceExistsError:
        pass


@functools.cache
def xero_tokens() -> XeroTokens:
    from shared.xero.oauth import XeroOAuth
    from shared.xero.tokens import XeroTokens

    return XeroTokens(connections(), XeroOAuth(session(), get_settings()))


@functools.cache
def _rate_gate() -> object:
    from shared.xero.pacing import RateGate

    return RateGate()


def xero_for(connection: Connection) -> XeroAccounting:
    from shared.xero.accounting import XeroAccounting
    from shared.xero.pacing import RateGate

    settings, tokens, gate = get_settings(), xero_tokens(), _rate_gate()
    assert isinstance(gate, RateGate)
    return XeroAccounting(
        session(),
        settings.xero_api_url,
        lambda: tokens.access_token(connection.id),
        settings.http_timeout_seconds,
        gate,
    )


def dataverse_for(connection: Connection) -> Dataverse:
    from shared.connections.dynamics_access import dataverse_client_for

    return dataverse_client_for(connection, connections(), get_settings(), session())


@functools.cache
def invoice_worker() -> Collaborators:
    from shared.sync.item_catalog import ItemCatalog
    from shared.sync.worker import Collaborators

    queue = invoice_queue()
    return Collaborators(
        connections=connections(),
        dataverse_for=dataverse_for,
        xero_for=xero_for,
        catalog=ItemCatalog(),
        activity=activity(),
        requeue=lambda body, delay: queue.send_message(body, visibility_timeout=delay),
        now=utc_now,
    )


@functools.cache
def reference_queue() -> QueueClient:
    from shared.storage import queue_client

    settings = get_settings()
    client = queue_client(settings, settings.reference_queue)
    _create_if_missing(client)
    return client


@functools.cache
def reference_worker() -> RefreshParts:
    from shared.reference.worker import RefreshParts

    queue = reference_queue()
    return RefreshParts(
        connections=connections(),
        dataverse_for=dataverse_for,  # type: ignore[arg-type]
        xero_for=xero_for,
        send=lambda body, delay: queue.send_message(body, visibility_timeout=delay or None),
        now=utc_now,
    )
