"""The Xero events queue: one organisation's changed invoices read from Xero and written onto Dynamics.

Per message: the organisation's active connections (one table query); per connection ONE Dataverse GET of
the invoices carrying those Xero ids; ONE Xero GET Invoices?IDs=… for all of them (AmountPaid, AmountDue,
FullyPaidOnDate and Payments come with each invoice); ONE $batch per connection writing every change. An
organisation or invoice the connector does not know costs no Xero call and is acknowledged.

Failures follow the invoice worker's table (shared/sync/failure_policy.py): a rate limit → a delayed copy
of the message; other transient trouble → raise, the host redelivers; nothing to fix by retrying, or too
many waits → logged, done."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.dataverse import schema
from shared.dataverse.batch import BatchRequest
from shared.dataverse.values import is_guid
from shared.errors import FatalError, NotFoundError, ReconnectRequired, RetriableError
from shared.store.models import Connection
from shared.sync.failure_policy import Decision, decide
from shared.sync.write_back import Dataverse
from shared.xero.accounting import XeroAccounting
from shared.xero_inbound.changes import STATE_PAID, STATUS_COMPLETE, InvoiceChange, change_for
from shared.xero_inbound.messages import BadMessage, XeroInvoicesMessage

log = logging.getLogger(__name__)
ROW_COLUMNS = (
    "invoiceid",
    "statecode",
    "modifiedon",
    schema.INVOICE_SYNCED_ON,
    schema.INVOICE_XERO_ID,
    schema.INVOICE_XERO_STATUS,
    schema.INVOICE_XERO_AMOUNT_PAID,
    schema.INVOICE_XERO_AMOUNT_DUE,
    schema.INVOICE_XERO_PAID_ON,
    schema.INVOICE_XERO_UPDATED_AT,
)


class Connections(Protocol):
    def list_for_xero_tenant(self, tenant_id: str) -> list[Connection]: ...


@dataclass
class InboundParts:
    connections: Connections
    dataverse_for: Callable[[Connection], Dataverse]
    xero_for: Callable[[Connection], XeroAccounting]
    requeue: Callable[[str, int], Any]  # (message body, visibility delay in seconds)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Outcome:
    result: str  # "written", "unchanged", "unknown-tenant", "unknown-invoices", "deferred", "bad-message"
    written: int = 0  # Dynamics invoices changed
    xero_calls: int = 0
    dataverse_calls: int = 0


def handle_xero_message(body: str, invocation_id: str, parts: InboundParts) -> Outcome:
    try:
        message = XeroInvoicesMessage.from_json(body)
    except BadMessage as error:
        log.error("invocation %s: dropped a message that is not Xero events: %s", invocation_id, error)
        return Outcome("bad-message")
    context = f"organisation {message.tenant_id} invocation {invocation_id}"
    try:
        outcome = apply_xero_changes(message, parts)
    except (RetriableError, FatalError) as error:
        return _carry_out(
            decide(error, last_try=False, deferrals=message.deferrals), error, message, parts, context
        )
    log.info("%s: %s (%s invoice(s) written)", context, outcome.result, outcome.written)
    return outcome


def _carry_out(
    decision: Decision,
    error: RetriableError | FatalError,
    message: XeroInvoicesMessage,
    parts: InboundParts,
    context: str,
) -> Outcome:
    """Do what shared/sync/failure_policy.py decided. Nothing is written on a Dynamics invoice here: the
    next change of the invoice (or the sweep) brings it again, so poison and complete both end in a log."""
    if decision is Decision.RETRY:
        log.warning("%s: will retry: %s", context, error)
        raise error
    if decision is Decision.DEFER:
        assert isinstance(error, RetriableError) and error.retry_after is not None, "only a wait is deferred"
        delay = math.ceil(min(max(error.retry_after, 1), 7 * 24 * 3600 - 60))
        parts.requeue(replace(message, deferrals=message.deferrals + 1).to_json(), delay)
        log.info("%s: deferred %s s: %s", context, delay, error)
        return Outcome("deferred")
    if decision is Decision.POISON:
        log.error("%s: gave up after %s waits: %s", context, message.deferrals, error)
        return Outcome("failed")
    # Xero refuses the connector (consent withdrawn: the portal's light says so) or refuses the read:
    # no retry can help; the next change (or the sweep, once reconnected) brings it again.
    log.error("%s: not applied: %s", context, error)
    return Outcome("failed")


def apply_xero_changes(message: XeroInvoicesMessage, parts: InboundParts) -> Outcome:
    listed = parts.connections.list_for_xero_tenant(message.tenant_id)
    connections = [c for c in listed if c.status == "active"]
    if not connections:
        return Outcome("unknown-tenant")  # not (or no longer) ours: acknowledged, nothing read
    rows_by_connection: dict[str, list[dict[str, Any]]] = {}
    dataverse_calls = 0
    for connection in connections:
        try:
            rows = rows_for(parts.dataverse_for(connection), message.invoice_ids)
        except (ReconnectRequired, FatalError) as error:  # one Dynamics refusing us stops no other
            log.error("connection %s: could not read the Dynamics invoices: %s", connection.id, error)
            continue
        dataverse_calls += 1
        if rows:
            rows_by_connection[connection.id] = rows
    known = sorted(
        {str(r[schema.INVOICE_XERO_ID]).lower() for rows in rows_by_connection.values() for r in rows}
    )
    if not known:
        return Outcome("unknown-invoices", dataverse_calls=dataverse_calls)
    reader = next(c for c in connections if c.id in rows_by_connection)
    xero_invoices = read_xero_invoices(parts.xero_for(reader), known)
    written = 0
    for connection in connections:
        rows = rows_by_connection.get(connection.id, [])
        changes = [
            change
            for row in rows
            if (found := xero_invoices.get(str(row[schema.INVOICE_XERO_ID]).lower())) is not None
            and (change := change_for(found, row, connection.sync.close_paid_invoices)) is not None
        ]
        if changes:
            write_changes(parts.dataverse_for(connection), changes, parts.now())
            dataverse_calls += 1
            written += len(changes)
    return Outcome("written" if written else "unchanged", written, 1, dataverse_calls)


def rows_for(dataverse: Dataverse, xero_ids: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """The Dynamics invoices carrying these Xero ids (the id the push wrote back): ONE GET."""
    ids = [i for i in xero_ids if is_guid(i)]  # never anything else inside the $filter
    if not ids:
        return []
    match = " or ".join(f"{schema.INVOICE_XERO_ID} eq '{i}'" for i in ids)
    answer = dataverse.get(f"invoices?$select={','.join(ROW_COLUMNS)}&$filter={match}")
    return [row for row in answer.get("value", []) if row.get(schema.INVOICE_XERO_ID)]


def read_xero_invoices(xero: XeroAccounting, ids: list[str]) -> dict[str, dict[str, Any]]:
    """GET Invoices?IDs=a,b,c: every one in one call (Xero's IDs filter; FACTS.md "Prefer IDs=")."""
    answer = xero.get("Invoices", {"IDs": ",".join(ids), "unitdp": 4})
    return {str(i.get("InvoiceID", "")).lower(): i for i in answer.get("Invoices", [])}


def write_changes(dataverse: Dataverse, changes: list[InvoiceChange], now: datetime) -> None:
    """Every change of one connection in one $batch; a paid invoice's columns first, then its state (a
    paid invoice is read-only in Dynamics). One invoice deleted meanwhile would fail the whole change
    set: then each is written alone, and the deleted one is skipped."""
    requests_: list[BatchRequest] = []
    for change in changes:
        path = f"invoices({change.invoice_id})"
        values = dict(change.values)
        if change.in_step:
            # the connector's own write: stamped, so the sweep does not take it for a person's edit. A row
            # that held an edit no push has seen keeps its old stamp, so the sweep still finds that edit.
            values[schema.INVOICE_SYNCED_ON] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        if values:
            requests_.append(BatchRequest("PATCH", path, values, {"If-Match": "*"}))
        if change.close_as_paid:
            state = {"statecode": STATE_PAID, "statuscode": STATUS_COMPLETE}
            requests_.append(BatchRequest("PATCH", path, state, {"If-Match": "*"}))
    try:
        dataverse.batch(requests_)
    except NotFoundError:
        for request in requests_:
            try:
                dataverse.batch([request])
            except NotFoundError:
                log.info("%s was deleted in Dynamics meanwhile: skipped", request.path)
