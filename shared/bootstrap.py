"""The collaborators of this worker process, each built once, on first use (never at import: an import
error in function_app.py would hide every function, and heavy imports slow every cold start)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from shared.config import get_settings

if TYPE_CHECKING:
    import requests
    from azure.storage.queue import QueueClient

    from shared.accounts.services import AccountServices
    from shared.billing.enforcement import Enforcer
    from shared.billing.reminders import Reminders
    from shared.billing.service import BillingService
    from shared.dataverse.token_registry import TokenRegistry
    from shared.reference.worker import RefreshParts
    from shared.store.activity import ActivityLog
    from shared.store.connections import ConnectionStore
    from shared.store.models import Connection
    from shared.store.recent_connections import RecentConnections
    from shared.store.xero_tokens import XeroTokens
    from shared.sync.worker import Collaborators
    from shared.sync.write_back import Dataverse
    from shared.web.parts import PortalParts
    from shared.xero.accounting import XeroAccounting
    from shared.xero.pacing import RateGate
    from shared.xero_inbound.apply import InboundParts
    from shared.xero_inbound.sweep import SweepParts


T = TypeVar("T")
_building = threading.RLock()  # re-entrant: one collaborator's factory asks for others
_built: list[functools._lru_cache_wrapper[object]] = []  # every `once` factory's cache, for forget()


def once(factory: Callable[[], T]) -> Callable[[], T]:
    """functools.cache, but built once even when a batch of invocations asks at the same moment (a
    second ItemCatalog or token service would defeat the point of having one per worker)."""
    cached = functools.cache(factory)
    _built.append(cached)

    @functools.wraps(factory)
    def get() -> T:
        with _building:
            return cached()

    return get


def forget() -> None:
    """Drop every collaborator built so far, as a fresh worker starts without them (tests, local stack)."""
    with _building:
        for cached in _built:
            cached.cache_clear()


def utc_now() -> datetime:
    return datetime.now(UTC)


@once
def session() -> requests.Session:
    from shared.http import make_session

    return make_session(get_settings())


@once
def connections() -> ConnectionStore:
    from shared.store.connections import ConnectionStore

    return ConnectionStore.from_settings(get_settings())


@once
def recent_connections() -> RecentConnections:
    """The webhook's view of connection rows: read at most every few seconds per connection."""
    from shared.store.recent_connections import RecentConnections

    return RecentConnections(connections())


@once
def activity() -> ActivityLog:
    from shared.store.activity import ActivityLog

    return ActivityLog.from_settings(get_settings())


@once
def invoice_queue() -> QueueClient:
    return _queue(get_settings().invoice_queue)


def _queue(name: str) -> QueueClient:
    from azure.core.exceptions import ResourceExistsError

    from shared.storage import queue_client

    client = queue_client(get_settings(), name)
    try:
        client.create_queue()
    except ResourceExistsError:
        pass
    return client


@once
def xero_tokens() -> XeroTokens:
    from shared.store.xero_tokens import XeroTokens
    from shared.xero.oauth import XeroOAuth

    return XeroTokens(connections(), XeroOAuth(session(), get_settings()))


@once
def rate_gate() -> RateGate:
    """Xero's per-organisation limits as this worker sees them: one gate for every Xero client."""
    from shared.xero.pacing import RateGate

    return RateGate(minute=get_settings().xero_minute_seconds)


def xero_for(connection: Connection) -> XeroAccounting:
    from shared.xero.accounting import XeroAccounting

    settings, tokens, gate = get_settings(), xero_tokens(), rate_gate()
    return XeroAccounting(
        session(),
        settings.xero_api_url,
        # the row this message read serves until Xero answers 401 to its token
        lambda rejected: tokens.access_token(connection.id, connection, rejected),
        settings.http_timeout_seconds,
        gate,
    )


@once
def token_registry() -> TokenRegistry:
    from shared.dataverse.token_registry import TokenRegistry

    return TokenRegistry(get_settings(), session())


def dataverse_for(connection: Connection) -> Dataverse:
    """A Web API client; its token provider is kept per worker (no token call per message)."""
    from shared.connections.dynamics_access import dataverse_client_for

    return dataverse_client_for(connection, connections(), get_settings(), session(), token_registry())


@once
def invoice_worker() -> Collaborators:
    from shared.sync.item_catalog import ItemCatalog
    from shared.sync.worker import Collaborators

    queue, gate = invoice_queue(), rate_gate()
    return Collaborators(
        connections=connections(),
        dataverse_for=dataverse_for,
        xero_for=xero_for,
        catalog=ItemCatalog(),
        activity=activity(),
        requeue=lambda body, delay: queue.send_message(body, visibility_timeout=delay),
        now=utc_now,
        pacing=gate,
        billing=enforcer(),
    )


def portal() -> PortalParts:
    """What the signed-in portal pages use (handed to them by functions/_signed_in.py)."""
    from shared.web.parts import PortalParts

    return PortalParts(connections(), session(), activity(), dataverse_for, xero_for, enforcer())


@once
def reference_queue() -> QueueClient:
    return _queue(get_settings().reference_queue)


@once
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


@once
def account_services() -> AccountServices:
    """What sign-in, registration and the account's settings use: accounts, abuse counters, e-mail."""
    from shared.accounts.breached import PwnedPasswords
    from shared.accounts.services import AccountServices
    from shared.email.senders import sender_from_settings
    from shared.store.accounts import AccountStore
    from shared.store.limits import LimitStore

    settings = get_settings()
    pwned = settings.pwned_passwords_url
    return AccountServices(
        store=AccountStore.from_settings(settings),
        limits=LimitStore.from_settings(settings),
        mailer=sender_from_settings(settings),
        secret=settings.session_secret,
        base_url=settings.public_base_url,
        breached=PwnedPasswords(pwned, session()) if pwned else None,
    )


@once
def billing() -> BillingService:
    from shared.billing.client import stripe_client
    from shared.billing.service import BillingService
    from shared.billing.store import BillingStore

    settings = get_settings()
    client = functools.cache(lambda: stripe_client(settings))  # built on first use: billing may be off
    return BillingService(client, account_services().store, BillingStore.from_settings(settings), settings)


@once
def enforcer() -> Enforcer | None:
    """The plans' limits on the invoice worker; off (None) while billing is off: nobody could subscribe."""
    from datetime import timedelta

    from shared.billing.enforcement import Enforcer
    from shared.billing.usage import UsageStore

    settings = get_settings()
    if not settings.stripe_secret_key:
        return None
    accounts = account_services()
    return Enforcer(
        accounts.store,
        UsageStore.from_settings(settings),
        accounts.mailer,
        settings.public_base_url,
        timedelta(days=settings.billing_grace_days),
    )


@once
def xero_events_queue() -> QueueClient:
    return _queue(get_settings().xero_events_queue)


@once
def xero_inbound_worker() -> InboundParts:
    from shared.xero_inbound.apply import InboundParts

    queue = xero_events_queue()
    return InboundParts(
        connections=connections(),
        dataverse_for=dataverse_for,
        xero_for=xero_for,
        requeue=lambda body, delay: queue.send_message(body, visibility_timeout=delay),
    )


@once
def trial_reminders() -> Reminders:
    from shared.billing.reminders import Reminders
    from shared.store.tables import ACCOUNTS, table_client

    settings = get_settings()
    accounts = account_services()
    return Reminders(
        table_client(settings, ACCOUNTS),
        accounts.store,
        accounts.mailer,
        settings.public_base_url,
    )


@once
def sweeper() -> SweepParts:
    from shared.xero_inbound.sweep import SweepParts
    from shared.xero_inbound.sweep_state import SweepMarks

    invoices, xero_events = invoice_queue(), xero_events_queue()
    return SweepParts(
        connections=connections(),
        dataverse_for=dataverse_for,
        xero_for=xero_for,
        send_invoice_event=lambda event: invoices.send_message(event.to_json()),
        send_xero_message=lambda message: xero_events.send_message(message.to_json()),
        marks=SweepMarks.from_settings(get_settings()),
        now=utc_now,
    )
