"""Install into Dynamics as a run that continues in a queue function: the portal's button only records a
new run on the connection and enqueues one message; functions/dynamics_install.py hands each delivery to
`handle_install_message`, which works through the steps and records after each how far it got.

- Progress: Connection.install holds the step in words, steps done of the total, and on failure why,
  with its fix; the connection page shows it and refreshes itself while the run goes on.
- One run at a time: a click while a run is queued, running or waiting starts nothing (the check is part
  of the ETag-conditional write that records the run, so two clicks at once cannot both win).
- Resumable and idempotent: a redelivered message resumes at the first step not recorded as done; every
  step reads before it writes (install_steps.py), so re-running a step that had already happened before a
  crash changes nothing. A lease on the run keeps a duplicate delivery from working alongside.
- Waiting for Dynamics: new alternate keys are built in the background (Pending → Active). The run then
  puts its message back on the queue, invisible for INSTALL_KEY_WAIT_SECONDS, and ends the invocation,
  instead of holding it while Dynamics works. Long runs likewise continue in a fresh invocation.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.config import Settings
from shared.connections.connections import get_for_account
from shared.connections.dynamics_access import mark_reconnect_required
from shared.connections.install_service import (
    XeroFor,
    _remember,
    _union,
    organisation_time_zone,
    propose_time_zone,
    webhook_url,
)
from shared.connections.lights import is_dynamics_connected
from shared.dataverse.client import DataverseClient
from shared.dataverse.install import InstallReport, MissingPrivilegesError, imported_solution_complete
from shared.dataverse.install_steps import key_statuses, metadata_steps
from shared.dataverse.install_webhook import ensure_endpoint, ensure_steps
from shared.dataverse.privileges import WEBHOOK_ONLY, check_privileges
from shared.errors import ConnectorError, FatalError, ReconnectRequired, RetriableError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection, InstallProgress
from shared.store.webhook_keys import connection_webhook_key

log = logging.getLogger(__name__)

PRIVILEGES_STEP = "Checking what the Dynamics user may change"
KEYS_STEP = "Waiting for Dynamics to build the Xero id keys"
WEBHOOK_STEP = "Registering the webhook, its steps and their images"
FINISH_STEP = "Checking the privileges the sync needs and proposing the time zone"
ACTIVE = ("queued", "running", "waiting")
STALE_AFTER = timedelta(minutes=10)  # a run not heard of for this long died (its messages gone)
KEYS_GIVE_UP_AFTER = timedelta(hours=2)  # a key build on the connector's small tables takes minutes
LEASE = timedelta(minutes=2)
TIME_BUDGET_SECONDS = 60.0  # then the run continues in a new invocation


class AlreadyRunning(ConnectorError):
    """A run of this connection is on its way: a second click starts nothing."""


class _Stale(Exception):
    pass


class _Busy(Exception):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


@dataclass
class InstallParts:
    connections: ConnectionStore
    dataverse_for: Callable[[Connection], DataverseClient]
    send: Callable[[str, int], Any]  # (message body, visibility delay in seconds)
    now: Callable[[], datetime]
    settings: Settings
    xero_for: XeroFor | None = None
    lease: timedelta = LEASE
    clock: Callable[[], float] = field(default=time.monotonic)


def step_titles() -> list[str]:
    return [PRIVILEGES_STEP, *(s.title for s in metadata_steps()), KEYS_STEP, WEBHOOK_STEP, FINISH_STEP]


def is_active(progress: InstallProgress, now: datetime) -> bool:
    fresh = progress.updated_at is not None and now - progress.updated_at < STALE_AFTER
    return progress.state in ACTIVE and fresh


def install_message(connection_id: str, run_id: str) -> str:
    return json.dumps({"kind": "install", "connection_id": connection_id, "run_id": run_id})


def start_install(
    store: ConnectionStore,
    account_id: str,
    connection_id: str,
    send: Callable[[str, int], Any],
    now: Callable[[], datetime],
) -> InstallProgress:
    """What the button calls: NotFoundError for another account's connection, AlreadyRunning while a
    run is on its way, FatalError before Dynamics is connected."""
    connection = get_for_account(store, account_id, connection_id)
    if not is_dynamics_connected(connection.dynamics):
        raise FatalError("connect to Dynamics first")
    run_id, titles = uuid.uuid4().hex, step_titles()

    def begin(row: Connection) -> None:
        moment = now()
        if is_active(row.install, moment):
            raise AlreadyRunning("Install into Dynamics is already running: this page shows how far it got")
        row.install = InstallProgress(
            run_id=run_id, state="queued", steps_total=len(titles), step=titles[0],
            started_at=moment, updated_at=moment,
        )  # fmt: skip

    started = store.update(connection_id, begin).install
    try:
        send(install_message(connection_id, run_id), 0)
    except Exception:
        _finish(store, connection_id, run_id, now, error="the run could not be queued — fix: try again")
        raise
    log.info("connection %s: install run %s queued", connection_id, run_id)
    return started


def handle_install_message(body: str, invocation_id: str, parts: InstallParts) -> str:
    try:
        message = json.loads(body)
        connection_id, run_id = str(message["connection_id"]), str(message["run_id"])
    except (ValueError, KeyError, TypeError):
        log.error("invocation %s: dropped a message that is not an install run", invocation_id)
        return "bad-message"
    try:
        connection = parts.connections.update(connection_id, _claim(run_id, invocation_id, parts))
    except _Stale:
        return "stale"  # another run replaced it, or it ended: a duplicate delivery changes nothing
    except _Busy as busy:  # another invocation holds the run (a duplicate delivery): look again later
        parts.send(body, int(busy.seconds) + 1)
        return "busy"
    except ConnectorError:  # the connection is gone
        return "stale"
    try:
        return _work(connection, body, invocation_id, parts)
    except Exception:
        _release(parts, connection_id, run_id, invocation_id)  # the redelivery may claim it at once
        raise


def _claim(run_id: str, invocation_id: str, parts: InstallParts) -> Callable[[Connection], None]:
    def claim(row: Connection) -> None:
        progress, moment = row.install, parts.now()
        if progress.run_id != run_id or progress.state not in ACTIVE:
            raise _Stale()
        held = progress.lease_until is not None and progress.lease_until > moment
        if held and progress.lease_holder != invocation_id:
            raise _Busy((progress.lease_until - moment).total_seconds())  # type: ignore[operator]
        progress.state, progress.updated_at = "running", moment
        progress.lease_until, progress.lease_holder = moment + parts.lease, invocation_id

    return claim


def _work(connection: Connection, body: str, invocation_id: str, parts: InstallParts) -> str:
    store, progress, started = parts.connections, connection.install, parts.clock()
    titles, metadata = step_titles(), metadata_steps()
    try:
        client = parts.dataverse_for(connection)
        index = progress.steps_done
        while index < len(titles):
            report = InstallReport()
            if index == 0:
                _check_privileges(store, connection, client)
            elif index <= len(metadata):
                metadata[index - 1].run(client, report)
            elif titles[index] == KEYS_STEP:
                waiting = _keys_waiting(client, parts, connection)
                if waiting:
                    _wait(parts, connection.id, progress.run_id, waiting)
                    parts.send(body, max(1, parts.settings.install_key_wait_seconds))
                    return "waiting"
            elif titles[index] == WEBHOOK_STEP:
                _register_webhook(store, connection, client, parts.settings, report)
            else:
                _finish_install(store, connection, client, parts)
            index += 1
            if not _advance(parts, connection.id, progress.run_id, index, titles, report):
                return "stale"  # uninstalled, or another run replaced this one meanwhile
            if index < len(titles) and parts.clock() - started > TIME_BUDGET_SECONDS:
                _release(parts, connection.id, progress.run_id, invocation_id)
                parts.send(body, 0)
                return "continued"
    except MissingPrivilegesError:
        _finish(store, connection.id, progress.run_id, parts.now, error=PRIVILEGES_MISSING)
        return "failed"
    except ReconnectRequired as refused:
        mark_reconnect_required(store, connection.id, refused.reason)
        _finish(store, connection.id, progress.run_id, parts.now, error=f"{refused.reason} — fix: sign in to "
                "Dynamics again, then Install into Dynamics")  # fmt: skip
        return "failed"
    except RetriableError as error:
        if error.retry_after is None:
            raise
        _release(parts, connection.id, progress.run_id, invocation_id)
        parts.send(body, int(max(error.retry_after, 1)))
        return "deferred"
    except FatalError as error:
        _finish(store, connection.id, progress.run_id, parts.now, error=str(error))
        return "failed"
    _finish(store, connection.id, progress.run_id, parts.now)
    log.info("connection %s: install run %s done", connection.id, progress.run_id)
    return "done"


PRIVILEGES_MISSING = "privileges are missing (listed below) — fix: ask your Dynamics administrator for them"


def _check_privileges(store: ConnectionStore, connection: Connection, client: DataverseClient) -> None:
    """Install's own privileges (install.py): without them nothing is created, unless the admin imported
    the solution .zip, when only the webhook is registered (the metadata steps then only read)."""
    missing = check_privileges(client, for_install=True)
    webhook_only = {n.privilege for n in WEBHOOK_ONLY}
    if not missing or (
        not any(m.privilege in webhook_only for m in missing) and imported_solution_complete(client)
    ):
        return
    every = _union(missing, check_privileges(client))
    _remember(store, connection.id, registered=connection.dynamics.webhook_registered, missing=every)
    raise MissingPrivilegesError(missing)


def _keys_waiting(client: DataverseClient, parts: InstallParts, connection: Connection) -> str:
    """ "" once every key is Active; else the words for the page. FatalError for a failed or missing key,
    or a build that takes far longer than it should."""
    statuses = key_statuses(client)
    failed = [name for name, status in statuses.items() if status not in ("Active", "Pending", "InProgress")]
    if failed:
        raise FatalError(
            f"Dynamics could not build the key {failed[0]} ({statuses[failed[0]] or 'missing'}) — fix: "
            "choose Install into Dynamics again; it asks Dynamics to build the key again"
        )
    ready = sum(status == "Active" for status in statuses.values())
    if ready == len(statuses):
        return ""
    since = connection.install.waiting_since
    if since is not None and parts.now() - since > KEYS_GIVE_UP_AFTER:
        raise FatalError(
            f"Dynamics has not finished building the Xero id keys after {KEYS_GIVE_UP_AFTER} — fix: look "
            "for a failed job under Settings → System Jobs in Dynamics, then Install into Dynamics again"
        )
    return f"{KEYS_STEP} ({ready} of {len(statuses)} ready; Dynamics builds them in the background)"


def _register_webhook(
    store: ConnectionStore,
    connection: Connection,
    client: DataverseClient,
    settings: Settings,
    report: InstallReport,
) -> None:
    """As install_service does: a new key only when the connection has no hash of the registered one; its
    hash stored the moment Dynamics has it, so a resumed run does not write the key again."""
    current = store.require(connection.id).dynamics
    key = connection_webhook_key(connection.id)
    endpoint_id, written = ensure_endpoint(
        client, webhook_url(settings), key, not current.webhook_key_hash, report, connection.id
    )
    if written:
        store.set_webhook_key(connection.id, key)
    ensure_steps(client, endpoint_id, report)


def _finish_install(
    store: ConnectionStore, connection: Connection, client: DataverseClient, parts: InstallParts
) -> None:
    _remember(store, connection.id, registered=True, missing=check_privileges(client))
    xero_for = parts.xero_for
    xero = (lambda: organisation_time_zone(xero_for(connection))) if xero_for else (lambda: None)
    propose_time_zone(store, connection.id, client, xero)


def _update_run(
    store: ConnectionStore, connection_id: str, run_id: str, change: Callable[[InstallProgress], None]
) -> bool:
    """False (and nothing written) when the run is no longer the connection's current one."""

    def apply(row: Connection) -> None:
        if row.install.run_id == run_id:  # a newer run replaced it: leave that one alone
            change(row.install)

    return store.update(connection_id, apply).install.run_id == run_id


def _advance(
    parts: InstallParts, connection_id: str, run_id: str, done: int, titles: list[str], report: InstallReport
) -> bool:
    def change(progress: InstallProgress) -> None:
        progress.steps_done, progress.updated_at = done, parts.now()
        if progress.lease_until is not None:  # the holder is alive: its lease runs on
            progress.lease_until = progress.updated_at + parts.lease
        progress.step = titles[min(done, len(titles) - 1)]
        progress.changes += len(report.changes)
        progress.problems = [*progress.problems, *(p for p in report.problems if p not in progress.problems)]

    return _update_run(parts.connections, connection_id, run_id, change)


def _wait(parts: InstallParts, connection_id: str, run_id: str, words: str) -> None:
    def change(progress: InstallProgress) -> None:
        moment = parts.now()
        progress.state, progress.step, progress.updated_at = "waiting", words, moment
        progress.waiting_since = progress.waiting_since or moment
        progress.lease_until, progress.lease_holder = None, ""

    _update_run(parts.connections, connection_id, run_id, change)


def _release(parts: InstallParts, connection_id: str, run_id: str, invocation_id: str) -> None:
    def change(progress: InstallProgress) -> None:
        if progress.lease_holder == invocation_id:
            progress.lease_until, progress.lease_holder = None, ""

    _update_run(parts.connections, connection_id, run_id, change)


def _finish(
    store: ConnectionStore, connection_id: str, run_id: str, now: Callable[[], datetime], error: str = ""
) -> None:
    def change(progress: InstallProgress) -> None:
        progress.state, progress.error, progress.updated_at = ("failed" if error else "done"), error, now()
        progress.lease_until, progress.lease_holder = None, ""
        if not error:
            progress.steps_done, progress.step = progress.steps_total, "Installed"

    _update_run(store, connection_id, run_id, change)
