"""The queue side of the invoice push: what each outcome means for the message.

- done, skipped or failed with its reason written back: the message completes;
- a rate limit (RetriableError with retry_after, including the pacing's own "wait for the minute"): a
  copy goes back on the queue, invisible for that long, and this one completes — never a sleep inside
  the function, and a wait never counts towards poisoning;
- any other retriable trouble (5xx, timeouts, a dropped connection): raise, and the host redelivers after
  host.json's visibilityTimeout; after maxDequeueCount tries the poison function writes the reason back.
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
from shared.sync.events import BadEvent, InvoiceEvent
from shared.sync.item_catalog import ItemCatalog
from shared.sync.push import Push, PushResult
from shared.sync.write_back import Dataverse, problem_values, write_back
from shared.xero.accounting import XeroAccounting
from shared.xero.pacing import RateGate

log = logging.getLogger(__name__)
MAX_DEFER_SECONDS = 7 * 24 * 3600 - 60  # a queue message may stay invisible for at most 7 days
MIN_DEFER_SECONDS = 1
# Waits one event may take. Xero's day limit is one long wait; its minute limit is a wait per minute of
# backlog, and 5,000 calls a day is at most ~85 such minutes; so 200 is never reached by honest limits.
MAX_DEFERRALS = 200


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
    context = f"connection {event.connection_id} invoice {event.invoice_id or event.line_id}"
    context += f" invocation {invocation_id} dequeue_count {dequeue_count}"
    try:
        if _covered_before_reading(event, parts):
            log.info("%s: covered", context)
            return "covered"
    except RetriableError as error:  # the organisation's Xero minute is full: wait without reading
        return _defer(parts, event, error, context)
    connection = parts.connections.get(event.connection_id)
    if connection is None or connection.status == "disconnected":
        log.warning("%s: the connection is gone or disconnected; nothing to push", context)
        return "no-connection"
    parts.tenants[connection.id] = connection.xero.tenant_id
    pause = parts.billing.pause(connection, parts.now()) if parts.billing else None
    if pause is not None:
        return _wait_for_billing(parts, event, connection, pause, context)
    try:
        result = _push(event, connection, parts).run()
    except RetriableError as error:
        if error.retry_after is not None:
            return _defer(parts, event, error, context)
        _remember(parts, event, str(error))
        log.warning("%s: will retry: %s", context, error)
        raise
    except ReconnectRequired as error:
        # Dynamics refused us: nothing can be written on the invoice. The portal's light says it.
        _remember(parts, event, str(error), outcome="failed")
        log.error("%s: %s", context, error)
        return "reconnect"
    except FatalError as error:
        # Dynamics refused to give us the invoice (gone, no access): retrying cannot help, and there is no
        # invoice to write on. The portal's activity shows it.
        _remember(parts, event, str(error), outcome="failed")
        log.error("%s: could not read the invoice: %s", context, error)
        return "failed"
    if parts.billing and result.created:
        parts.billing.sent(connection, parts.now())
    _log_result(context, result)
    return result.outcome


def _wait_for_billing(
    parts: Collaborators, event: InvoiceEvent, connection: Connection, pause: Pause, context: str
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
    log.info("%s: paused by the plan for %s s", context, pause.recheck_seconds)
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


def _defer(parts: Collaborators, event: InvoiceEvent, error: RetriableError, context: str) -> str:
    """A fresh copy of the message, invisible until the server's wait is over (whole seconds, rounded
    up: waking early only costs another round trip); this one completes, so a wait does not count
    towards poisoning. The copy counts its waits; past MAX_DEFERRALS the event gives up (written back)."""
    if event.deferrals >= MAX_DEFERRALS:
        why = f"Xero or Dynamics asked the connector to wait {event.deferrals} times in a row ({error})"
        return _give_up(parts, event, why, context)
    delay = math.ceil(min(max(error.retry_after or 0, MIN_DEFER_SECONDS), MAX_DEFER_SECONDS))
    parts.requeue(replace(event, deferrals=event.deferrals + 1).to_json(), delay)
    log.info("%s: deferred %s s: %s", context, delay, error)
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


def _log_result(context: str, result: PushResult) -> None:
    if result.outcome == "failed":
        log.warning("%s: failed (written back): %s", context, result.message)
    else:
        log.info("%s: %s %s", context, result.outcome, result.xero_invoice_id)


def handle_poison_message(body: str, invocation_id: str, parts: Collaborators) -> str:
    """The retries ran out. One last try first: another event of the same invoice may have pushed it
    meanwhile (then this costs no Xero call), or the trouble has passed. Only if that fails too is the
    reason written on the invoice, so nothing fails silently and nothing pushed is shown as failed."""
    try:
        event = InvoiceEvent.from_json(body)
    except BadEvent as error:
        log.error("invocation %s: a poison message that is not an invoice event: %s", invocation_id, error)
        return "bad-message"
    connection = parts.connections.get(event.connection_id)
    if connection is None:
        log.error("poison message for a connection that no longer exists: %s", event.connection_id)
        return "no-connection"
    context = (
        f"connection {connection.id} invoice {event.invoice_id or event.line_id} invocation {invocation_id}"
    )
    push = _push(event, connection, parts)
    try:
        result = push.run()
    except RetriableError as error:
        if error.retry_after is not None:  # a rate limit is no reason to give up: back to the queue
            return _defer(parts, event, error, context)
        why = str(error)
    except FatalError as error:  # as in handle_invoice_message: nothing to write the reason on
        _remember(parts, event, str(error), outcome="failed")
        log.error("%s: %s", context, error)
        return "failed"
    else:
        _log_result(context + " (last try)", result)
        return result.outcome
    return _write_failure(push, parts, why)


def _give_up(parts: Collaborators, event: InvoiceEvent, why: str, context: str) -> str:
    """Too many waits: write the reason on the invoice where Dynamics lets us, else keep it in the
    activity log; either way the event ends here."""
    connection = parts.connections.get(event.connection_id)
    try:
        if connection is None:
            raise FatalError("the connection is gone")
        return _write_failure(_push(event, connection, parts), parts, why)
    except (RetriableError, FatalError, ReconnectRequired) as error:
        _remember(parts, event, f"{why}; the reason could not be written on the invoice: {error}", "failed")
        log.error("%s: gave up after %s waits; not written back: %s", context, event.deferrals, error)
        return "failed"


def _write_failure(push: Push, parts: Collaborators, why: str) -> str:
    dataverse, doc = push.dataverse, push.read()
    invoice_id, number = str(doc["invoiceid"]), str(doc.get("invoicenumber") or "")
    message = (
        f"The connector could not send this invoice to Xero after several tries ({why}) — fix: save the "
        "invoice again in Dynamics, or press Retry failed in the connector"
    )
    write_back(dataverse, doc, problem_values(doc, message, parts.now()))
    connection_id = push.connection.id
    parts.activity.record(connection_id, invoice_id, number, "failed", message)
    log.error("connection %s invoice %s: retries exhausted, reason written back", connection_id, invoice_id)
    return "failed"
