"""The one composition root: `build(settings, **overrides)` wires every client and service of a worker
process, each built on first use (never at import: an import error in function_app.py would hide every
function, and heavy imports slow every cold start). As cosmicpython's bootstrap, collaborators are
parameters: a test passes its fake as an override (`build(settings, invoice_queue=fake)`) instead of
resetting caches. `functions/` asks `worker()` for this process's app, built once on first use; tests and
local tooling build their own and hand it to the triggers with `use(app)`."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from shared.config import Settings

if TYPE_CHECKING:
    import requests
    from azure.storage.queue import QueueClient

    from shared.accounts.services import AccountServices
    from shared.backfill.runner import BackfillParts
    from shared.billing.enforcement import Enforcer
    from shared.billing.reminders import Reminders
    from shared.billing.service import BillingService
    from shared.connections.install_job import InstallParts
    from shared.dataverse.token_registry import TokenRegistry
    from shared.reference.worker import RefreshParts
    from shared.store.activity import ActivityLog
    from shared.store.backfills import BackfillStore
    from shared.store.connections import ConnectionStore
    from shared.store.models import Connection
    from shared.store.recent_connections import RecentConnections
    from shared.store.xero_tokens import XeroTokens
    from shared.sync.worker import Collaborators
    from shared.sync.write_back import Dataverse
    from shared.web.parts import PortalParts
    from shared.xero.accounting import XeroAccounting
    from shared.xero.budget import Priority
    from shared.xero.pacing import RateGate
    from shared.xero_inbound.apply import InboundParts
    from shared.xero_inbound.sweep import SweepParts


T = TypeVar("T")
OVERRIDABLE: set[str] = set()  # the names build() accepts as overrides: every collaborator built once


def utc_now() -> datetime:
    return datetime.now(UTC)


def once(factory: Callable[[App], T]) -> Callable[[App], T]:
    """Built on the first call and kept by the app; built once even when a batch of invocations asks at the
    same moment (a second ItemCatalog or token service would defeat the point of having one per worker).
    An override given to build() under the factory's name is used instead."""
    name = factory.__name__
    OVERRIDABLE.add(name)

    @functools.wraps(factory)
    def get(self: App) -> T:
        with self._building:
            if name not in self._built:
                self._built[name] = factory(self)
            return cast(T, self._built[name])

    return get


class App:
    """Every collaborator of one worker process, wired to one set of settings."""

    def __init__(self, settings: Settings, overrides: dict[str, Any]) -> None:
        unknown = sorted(set(overrides) - OVERRIDABLE)
        if unknown:
            raise TypeError(f"build() got overrides it does not build: {', '.join(unknown)}")
        self.settings = settings
        self._built: dict[str, object] = dict(overrides)
        self._building = threading.RLock()  # re-entrant: one collaborator's factory asks for others

    @once
    def session(self) -> requests.Session:
        from shared.http import make_session

        return make_session(self.settings)

    @once
    def connections(self) -> ConnectionStore:
        from shared.store.connections import ConnectionStore

        return ConnectionStore.from_settings(self.settings)

    @once
    def recent_connections(self) -> RecentConnections:
        """The webhook's view of connection rows: read at most every few seconds per connection."""
        from shared.store.recent_connections import RecentConnections

        return RecentConnections(self.connections())

    @once
    def activity(self) -> ActivityLog:
        from shared.store.activity import ActivityLog

        return ActivityLog.from_settings(self.settings)

    @once
    def invoice_queue(self) -> QueueClient:
        return self._queue(self.settings.invoice_queue)

    @once
    def reference_queue(self) -> QueueClient:
        return self._queue(self.settings.reference_queue)

    @once
    def xero_events_queue(self) -> QueueClient:
        return self._queue(self.settings.xero_events_queue)

    def _queue(self, name: str) -> QueueClient:
        from azure.core.exceptions import ResourceExistsError

        from shared.storage import queue_client

        client = queue_client(self.settings, name)
        try:
            client.create_queue()
        except ResourceExistsError:
            pass
        return client

    @once
    def xero_tokens(self) -> XeroTokens:
        from shared.store.xero_tokens import XeroTokens
        from shared.xero.oauth import XeroOAuth

        return XeroTokens(self.connections(), XeroOAuth(self.session(), self.settings))

    @once
    def rate_gate(self) -> RateGate:
        """Xero's per-organisation limits: one gate for every Xero client of this worker, drawing on each
        organisation's ledger in table storage, which every instance shares."""
        from shared.store.xero_budget import TableLedger
        from shared.xero.pacing import RateGate

        settings = self.settings
        return RateGate(minute=settings.xero_minute_seconds, ledger=TableLedger.from_settings(settings))

    def xero_for(self, connection: Connection, priority: Priority | None = None) -> XeroAccounting:
        """A Xero client for the connection's organisation; `priority` says whose calls it makes (a live
        push by default; the Xero -> Dynamics reads, the sweep and the backfill pass theirs)."""
        from shared.xero.accounting import XeroAccounting
        from shared.xero.budget import Priority

        settings, tokens = self.settings, self.xero_tokens()
        return XeroAccounting(
            self.session(),
            settings.xero_api_url,
            # the row this message read serves until Xero answers 401 to its token
            lambda rejected: tokens.access_token(connection.id, connection, rejected),
            settings.http_timeout_seconds,
            self.rate_gate(),
            Priority.LIVE if priority is None else priority,
        )

    @once
    def token_registry(self) -> TokenRegistry:
        from shared.dataverse.token_registry import TokenRegistry

        return TokenRegistry(self.settings, self.session())

    def dataverse_for(self, connection: Connection) -> Dataverse:
        """A Web API client; its token provider is kept per worker (no token call per message)."""
        from shared.connections.dynamics_access import dataverse_client_for

        return dataverse_client_for(
            connection, self.connections(), self.settings, self.session(), self.token_registry()
        )

    @once
    def invoice_worker(self) -> Collaborators:
        from shared.sync.item_catalog import ItemCatalog
        from shared.sync.worker import Collaborators

        queue = self.invoice_queue()
        return Collaborators(
            connections=self.connections(),
            dataverse_for=self.dataverse_for,
            xero_for=self.xero_for,
            catalog=ItemCatalog(),
            activity=self.activity(),
            requeue=lambda body, delay: queue.send_message(body, visibility_timeout=delay),
            now=utc_now,
            pacing=self.rate_gate(),
            billing=self.enforcer(),
        )

    def portal(self) -> PortalParts:
        """What the signed-in portal pages use (handed to them by functions/_signed_in.py)."""
        from shared.web.parts import PortalParts

        return PortalParts(
            self.connections(), self.session(), self.activity(), self.dataverse_for, self.xero_for,
            self.enforcer(), self.backfills(),
        )  # fmt: skip

    @once
    def reference_worker(self) -> RefreshParts:
        from shared.reference.worker import RefreshParts

        queue = self.reference_queue()
        return RefreshParts(
            connections=self.connections(),
            dataverse_for=self.dataverse_for,  # type: ignore[arg-type]
            xero_for=self.xero_for,
            send=lambda body, delay: queue.send_message(body, visibility_timeout=delay or None),
            now=utc_now,
        )

    @once
    def install_queue(self) -> QueueClient:
        return self._queue(self.settings.install_queue)

    @once
    def install_worker(self) -> InstallParts:
        from shared.connections.install_job import InstallParts

        queue = self.install_queue()
        return InstallParts(
            connections=self.connections(),
            dataverse_for=self.dataverse_for,  # type: ignore[arg-type]
            send=lambda body, delay: queue.send_message(body, visibility_timeout=delay or None),
            now=utc_now,
            settings=self.settings,
            xero_for=self.xero_for,
        )

    @once
    def account_services(self) -> AccountServices:
        """What sign-in, registration and the account's settings use: accounts, abuse counters, e-mail."""
        from shared.accounts.breached import PwnedPasswords
        from shared.accounts.services import AccountServices
        from shared.email.senders import sender_from_settings
        from shared.store.accounts import AccountStore
        from shared.store.limits import LimitStore

        settings = self.settings
        pwned = settings.pwned_passwords_url
        return AccountServices(
            store=AccountStore.from_settings(settings),
            limits=LimitStore.from_settings(settings),
            mailer=sender_from_settings(settings),
            secret=settings.session_secret,
            base_url=settings.public_base_url,
            breached=PwnedPasswords(pwned, self.session()) if pwned else None,
        )

    @once
    def billing(self) -> BillingService:
        from shared.billing.client import stripe_client
        from shared.billing.service import BillingService
        from shared.billing.store import BillingStore

        settings = self.settings
        client = functools.cache(lambda: stripe_client(settings))  # built on first use: billing may be off
        store = self.account_services().store
        return BillingService(client, store, BillingStore.from_settings(settings), settings)

    @once
    def enforcer(self) -> Enforcer | None:
        """The plans' limits on the invoice worker; off (None) while billing is off: nobody could
        subscribe."""
        from datetime import timedelta

        from shared.billing.enforcement import Enforcer
        from shared.billing.usage import UsageStore

        settings = self.settings
        if not settings.stripe_secret_key:
            return None
        accounts = self.account_services()
        return Enforcer(
            accounts.store,
            UsageStore.from_settings(settings),
            accounts.mailer,
            settings.public_base_url,
            timedelta(days=settings.billing_grace_days),
        )

    @once
    def xero_inbound_worker(self) -> InboundParts:
        from shared.xero.budget import Priority
        from shared.xero_inbound.apply import InboundParts

        queue = self.xero_events_queue()
        return InboundParts(
            connections=self.connections(),
            dataverse_for=self.dataverse_for,
            xero_for=functools.partial(self.xero_for, priority=Priority.INBOUND),
            requeue=lambda body, delay: queue.send_message(body, visibility_timeout=delay),
        )

    @once
    def trial_reminders(self) -> Reminders:
        from shared.billing.reminders import Reminders
        from shared.store.tables import ACCOUNTS, table_client

        accounts = self.account_services()
        return Reminders(
            table_client(self.settings, ACCOUNTS),
            accounts.store,
            accounts.mailer,
            self.settings.public_base_url,
        )

    @once
    def sweeper(self) -> SweepParts:
        from shared.xero.budget import Priority
        from shared.xero_inbound.sweep import SweepParts
        from shared.xero_inbound.sweep_state import SweepMarks

        invoices, xero_events = self.invoice_queue(), self.xero_events_queue()
        return SweepParts(
            connections=self.connections(),
            dataverse_for=self.dataverse_for,
            xero_for=functools.partial(self.xero_for, priority=Priority.BULK),
            send_invoice_event=lambda event: invoices.send_message(event.to_json()),
            send_xero_message=lambda message: xero_events.send_message(message.to_json()),
            marks=SweepMarks.from_settings(self.settings),
            now=utc_now,
        )

    @once
    def backfills(self) -> BackfillStore:
        from shared.store.backfills import BackfillStore

        return BackfillStore.from_settings(self.settings)

    @once
    def backfill_queue(self) -> QueueClient:
        """Beside the live queue (`<INVOICE_QUEUE>-backfill`), so the live pushes never wait behind it."""
        return self._queue(f"{self.settings.invoice_queue}-backfill")

    def send_backfill(self, body: str, delay: int) -> object:
        return self.backfill_queue().send_message(body, visibility_timeout=delay or None)

    @once
    def backfill_worker(self) -> BackfillParts:
        from datetime import timedelta

        from shared.backfill.runner import BackfillParts
        from shared.xero.budget import Priority

        live = self.invoice_queue()
        return BackfillParts(
            connections=self.connections(),
            jobs=self.backfills(),
            dataverse_for=self.dataverse_for,
            # the lowest class of the organisation's shared budget: it fills the gaps the others leave
            xero_for=functools.partial(self.xero_for, priority=Priority.BULK),
            catalog=self.invoice_worker().catalog,  # one item catalog per worker: items read once
            send=self.send_backfill,
            live_backlog=lambda: live.get_queue_properties().approximate_message_count or 0,
            now=utc_now,
            pacing=self.rate_gate(),
            # a page is a handful of calls in a row, each bounded by the timeout; a copy of its message
            # that finds it leased longer than this takes it over (safe either way: pages are replays)
            lease=timedelta(seconds=6 * self.settings.http_timeout_seconds),
        )


def build(settings: Settings, **overrides: Any) -> App:
    """The app for `settings`; an override (by collaborator name) is used instead of building that one."""
    return App(settings, overrides)


_worker: App | None = None
_choosing = threading.Lock()


def worker() -> App:
    """This worker process's app: the one handed to use(), else built on first use from the settings the
    process started with (shared/config.py reads them)."""
    global _worker
    with _choosing:
        if _worker is None:
            from shared.config import load_settings

            _worker = build(load_settings())
        return _worker


def use(app: App | None) -> App | None:
    """Hand `app` to the triggers of this process (tests, the local stack); None: the next worker() builds
    afresh from the environment, as a new worker would."""
    global _worker
    with _choosing:
        _worker = app
    return app
