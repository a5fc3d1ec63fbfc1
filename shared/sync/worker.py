"""The queue side of the invoice push: carries out what each outcome means for the message.

What a failure means (complete, defer, retry, poison) is decided by one table, shared/sync/failure_policy.py,
for this normal path and for the poison queue's last try alike; this module only does it:
- done, skipped or failed with its reason written back: the message completes;
- defer (a rate limit, or the pacing's own "wait for the minute"): a copy goes back on the queue,
  invisible for that long, and this one completes — never a sleep inside the function;
- retry: raise, and the host redelivers after host.json's visibilityTimeout; after maxDequeueCount tries
  the poison function tries once more and then writes the reason back (poison).
The log context (connection, invoice, invocation, dequeue count) travels in an EventLog adapter.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from shared.billing.allowance import Pause
from shared.dataverse import schema
from shared.errors import FatalError, ReconnectRequired, RetriableError
from shared.store.activity import ActivityLog
from shared.store.activity import Outcome as ActivityOutcome
from shared.store.models import Connection
from shared.sync.coalesce import InvoiceGate
from shared.sync.event_log import EventLog, event_log
from shared.sync.events import BadEvent, InvoiceEvent
from shared.sync.failure_policy import MAX_DEFERRALS, Decision, decide
from shared.sync.item_catalog import ItemCatalog
from shared.sync.push import Push, PushResult
from shared.sync.write_back import Dataverse, problem_values, write_back
from shared.xero.accounting import XeroAccounting
from shared.xero.pacing import RateGate

log = logging.getLogger(__name__)
MAX_DEFER_SECONDS = 7 * 24 * 3600 - 60  # a queue message may stay invisible for at most 7 days
MIN_DEFER_SECONDS = 1
__all__ = ["MAX_DEFERRALS", "Collaborators", "handle_invoice_message", "handle_poison_message"]


class Connections(Protocol):
    def get(self, connection_id: str) -> Connection | None: ...


@dataclass
class Collaborators:
    connections: Connections
    dataverse_for: Callable[[Connection], Dataverse]
    xero_for: Callable[[Connection], XeroAccounting]
    catalog: ItemCatalog
    activity: ActivityLog
    requeue: Callable[[str, int], Any]  # (message body, visibility delay in seconds)
    now: Callable[[], datetime]
    gate: InvoiceGate = field(default_factory=InvoiceGate)
    pacing: RateGate | None = None  # the worker's Xero pacing (bootstrap passes the process's one)
    tenants: dict[str, str] = field(default_factory=dict)  # connection id -> Xero tenant, as last read
    billing: Billing | None = None  # the plan's limits (shared/billing/enforcement.py); None: billing off


class Billing(Protocol):
    def pause(self, connection: Connection, now: datetime) -> Pause | None: ...

    def sent(self, connection: Connection, now: datetime) -> None: ...


def handle_invoice_message(body: str, dequeue_count: int, invocation_id: str, parts: Collaborators) -> str:
    """Process one queue message; returns what happened (for the log line and tests)."""
    try:
        event = InvoiceEvent.from_json(body)
    except BadEvent as error:
        # Nothing can make it valid; completing it is the only way not to poison the queue. Loudly.
        log.error("invocation %s: dropped a message that is not an invoice event: %s", invocation_id, error)
        return "bad-message"
    elog = event_log(log, event, invocation_id, dequeue_count)
    try:
        if _covered_before_reading(event, parts):
            elog.debug(
                "covered"
            )  # the push that covered it logs its result: one line per push, not per event
            return "covered"
    except RetriableError as error:  # the organisation's Xero minute is full: wait without reading
        return _carry_out(decide(error, last_try=False, deferrals=event.deferrals), error, event, parts, elog)
    connection = parts.connections.get(event.connection_id)
    if connection is None or connection.status == "disconnected":
        elog.warning("the connection is gone or disconnected; nothing to push")
        return "no-connection"
    parts.tenants[connection.id] = connection.xero.tenant_id
    pause = parts.billing.pause(connection, parts.now()) if parts.billing else None
    if pause is not None:
        return _wait_for_billing(parts, event, connection, pause, elog)
    try:
        result = _push(event, connection, parts).run()
    except (RetriableError, FatalError) as error:
        return _carry_out(decide(error, last_try=False, deferrals=event.deferrals), error, event, parts, elog)
    if parts.billing and result.created:
        parts.billing.sent(connection, parts.now())
    _log_result(elog, result)
    return result.outcome


def _carry_out(
    decision: Decision,
    error: RetriableError | FatalError,
    event: InvoiceEvent,
    parts: Collaborators,
    elog: EventLog,
    push: Push | None = None,
) -> str:
    """Do what shared/sync/failure_policy.py decided for a push that raised `error`."""
    if decision is Decision.DEFER:
        assert isinstance(error, RetriableError), "only a wait is deferred"
        return _defer(parts, event, error, elog)
    if decision is Decision.RETRY:
        _remember(parts, event, str(error))
        elog.warning("will retry: %s", error)
        raise error
    if decision is Decision.POISON:
        if isinstance(error, RetriableError) and error.retry_after is not None:  # too many waits
            why = f"Xero or Dynamics asked the connector to wait {event.deferrals} times in a row ({error})"
            return _give_up(parts, event, why, elog)
        assert push is not None, "only the poison path's last try decides poison for a retry"
        return _write_failure(push, parts, str(error), elog)
    # Complete. Dynamics refused us, or to give us the invoice (gone, no access): retrying cannot help,
    # and there is no invoice to write on. The portal's activity and its status light say it.
    _remember(parts, event, str(error), outcome="failed")
    if isinstance(error, ReconnectRequired):
        elog.error("%s", error)
        return "reconnect"
    elog.error("could not read the invoice: %s", error)
    return "failed"


def _wait_for_billing(
    parts: Collaborators, event: InvoiceEvent, connection: Connection, pause: Pause, elog: EventLog
) -> str:
    """The plan does not allow a push now: the reason goes on the invoice, the event comes back later
    (a pause is not a wait Xero asked for, so it does not count towards MAX_DEFERRALS)."""
    if event.invoice_id:
        values = {
            schema.INVOICE_SYNC_ERROR: pause.reason,
            schema.INVOICE_SYNCED_ON: f"{parts.now():%Y-%m-%dT%H:%M:%SZ}",
        }
        parts.dataverse_for(connection).update("invoices", event.invoice_id, values)
    parts.requeue(event.to_json(), pause.recheck_seconds)
    _remember(parts, event, pause.reason)
    elog.info("paused by the plan for %s s", pause.recheck_seconds)
    return "paused"


def _covered_before_reading(event: InvoiceEvent, parts: Collaborators) -> bool:
    """What can be decided from the event alone, before the connection row is read: True for an event a
    finished push already covered; RetriableError (defer) when its organisation's Xero minute is full (the
    tenant as this worker last read it; the push checks again on the fresh row). Under a burst most
    messages are one of these."""
    invoice = event.invoice_id
    if not invoice:
        return False
    if parts.gate.covered(event.connection_id, invoice, event.received_time, event.received_by):
        return True
    tenant = parts.tenants.get(event.connection_id)
    if tenant and parts.pacing is not None:
        parts.pacing.check(tenant, f"{event.connection_id}/{invoice}")
    return False


def _push(event: InvoiceEvent, connection: Connection, parts: Collaborators) -> Push:
    return Push(
        event, connection, parts.dataverse_for(connection), parts.xero_for(connection),
        parts.catalog, parts.activity, parts.now, parts.gate, parts.pacing,
    )  # fmt: skip


def _defer(parts: Collaborators, event: InvoiceEvent, error: RetriableError, elog: EventLog) -> str:
    """A fresh copy of the message, invisible until the server's wait is over (whole seconds, rounded
    up: waking early only costs another round trip); this one completes, so a wait does not count
    towards poisoning. The copy counts its waits (failure_policy.MAX_DEFERRALS)."""
    delay = math.ceil(min(max(error.retry_after or 0, MIN_DEFER_SECONDS), MAX_DEFER_SECONDS))
    parts.requeue(replace(event, deferrals=event.deferrals + 1).to_json(), delay)
    if event.deferrals == 0 and event.invoice_id:  # shown as waiting while the invoice has no row today
        try:
            why = f"Waiting {delay} s, as asked: {error}"
            parts.activity.record_if_first(event.connection_id, event.invoice_id, "waiting", why)
        except Exception as failure:  # the activity log must never turn a wait into a failure
            log.warning("could not record the wait: %s", type(failure).__name__)
    elog.info("deferred %s s: %s", delay, error)
    return "deferred"


def _remember(
    parts: Collaborators, event: InvoiceEvent, message: str, outcome: ActivityOutcome = "retrying"
) -> None:
    """Keep the latest transient reason so the poison function can say why the retries ran out."""
    try:
        invoice = event.invoice_id or event.line_id or ""
        parts.activity.record(event.connection_id, invoice, "", outcome, message)
    except Exception as error:  # the activity log must never turn a retriable failure into another one
        log.warning("could not record the failure: %s", type(error).__name__)


def _log_result(elog: EventLog, result: PushResult) -> None:
    if result.outcome == "failed":
        elog.warning("failed (written back): %s", result.message)
    else:
        elog.info("%s %s", result.outcome, result.xero_invoice_id)


def handle_poison_message(body: str, invocation_id: str, parts: Collaborators) -> str:
    """The retries ran out. One last try first: another event of the same invoice may have pushed it
    meanwhile (then this costs no Xero call), or the trouble has passed. Only if that fails too is the
    reason written on the invoice, so nothing fails silently and nothing pushed is shown as failed.
    What a failure means is the normal path's table (failure_policy), on its last try."""
    try:
        event = InvoiceEvent.from_json(body)
    except BadEvent as error:
        log.error("invocation %s: a poison message that is not an invoice event: %s", invocation_id, error)
        return "bad-message"
    connection = parts.connections.get(event.connection_id)
    if connection is None:
        log.error("poison message for a connection that no longer exists: %s", event.connection_id)
        return "no-connection"
    elog = event_log(log, event, invocation_id, connection_id=connection.id)
    push = _push(event, connection, parts)
    try:
        result = push.run()
    except (RetriableError, FatalError) as error:
        decision = decide(error, last_try=True, deferrals=event.deferrals)
        return _carry_out(decision, error, event, parts, elog, push)
    _log_result(elog.last_try(), result)
    return result.outcome


def _give_up(parts: Collaborators, event: InvoiceEvent, why: str, elog: EventLog) -> str:
    """Too many waits: write the reason on the invoice where Dynamics lets us, else keep it in the
    activity log; either way the event ends here."""
    connection = parts.connections.get(event.connection_id)
    try:
        if connection is None:
            raise FatalError("the connection is gone")
        return _write_failure(_push(event, connection, parts), parts, why, elog)
    except (RetriableError, FatalError, ReconnectRequired) as error:
        _remember(parts, event, f"{why}; the reason could not be written on the invoice: {error}", "failed")
        elog.error("gave up after %s waits; not written back: %s", event.deferrals, error)
        return "failed"


def _write_failure(push: Push, parts: Collaborators, why: str, elog: EventLog) -> str:
    dataverse, doc = push.dataverse, push.read()
    invoice_id, number = str(doc["invoiceid"]), str(doc.get("invoicenumber") or "")
    message = (
        f"The connector could not send this invoice to Xero after several tries ({why}) — fix: save the "
        "invoice again in Dynamics, or press Retry failed in the connector"
    )
    write_back(dataverse, doc, problem_values(doc, message, parts.now()))
    connection_id = push.connection.id
    parts.activity.record(connection_id, invoice_id, number, "failed", message)
    elog.error("retries exhausted, reason written back")
    return "failed"
