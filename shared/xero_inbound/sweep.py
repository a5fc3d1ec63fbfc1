"""The sweep (timer): per active connection, what a lost webhook left out of step, on either side, put on
the queues as the normal messages — so the push and the Xero -> Dynamics worker do the work as usual.

- Dynamics: ONE GET of the invoices modified since the last sweep (paged only when there are many). An
  invoice the connector never wrote on, or changed after the connector last wrote on it, is out of step:
  its Dynamics webhook was lost (Dynamics retries only 502/503/504). → an InvoiceEvent.
- Xero: ONE GET Invoices with If-Modified-Since (paged, 100 a page: FACTS.md, Xero's "limits"/paging). A
  page already holds each invoice's Status, AmountPaid, AmountDue and FullyPaidOnDate, so the gaps are
  found by comparing with the Dynamics rows (one GET per 50 ids); only those are queued. → a
  XeroInvoicesMessage.

A sweep that finds nothing costs one Dataverse and one Xero call per connection. The Dynamics window
overlaps the previous one (our clock against Dataverse's, writes still in flight); the Xero window starts
just after the newest change the last sweep saw, on Xero's own clock. A connection whose sweep failed keeps
its old marks, so the next sweep covers the gap."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.dataverse import schema
from shared.dataverse.values import parse_ms_date
from shared.errors import FatalError, ReconnectRequired, RetriableError
from shared.store.models import Connection
from shared.sync.events import InvoiceEvent
from shared.sync.write_back import Dataverse
from shared.xero.accounting import PAGE_SIZE, XeroAccounting
from shared.xero_inbound.apply import ROW_COLUMNS, rows_for
from shared.xero_inbound.changes import change_for, out_of_step
from shared.xero_inbound.messages import MAX_IDS, XeroInvoicesMessage, messages_for

log = logging.getLogger(__name__)
OVERLAP = timedelta(minutes=2)
FIRST_LOOKBACK = timedelta(hours=1)  # a connection's first sweep (older invoices are the backfill's)
MAX_XERO_PAGES = 50
SWEEP_COLUMNS = (*ROW_COLUMNS, "versionnumber")
ORIGIN = "sweep"


class Connections(Protocol):
    def list_active(self) -> list[Connection]: ...


class Marks(Protocol):
    def last(self, connection_id: str) -> tuple[datetime, datetime] | None: ...

    def save(self, connection_id: str, started_at: datetime, xero_mark: datetime) -> None: ...


@dataclass
class SweepParts:
    connections: Connections
    dataverse_for: Callable[[Connection], Dataverse]
    xero_for: Callable[[Connection], XeroAccounting]
    send_invoice_event: Callable[[InvoiceEvent], object]
    send_xero_message: Callable[[XeroInvoicesMessage], object]
    marks: Marks
    now: Callable[[], datetime]


@dataclass(frozen=True)
class SweepResult:
    connection_id: str
    dynamics_gaps: int = 0
    xero_gaps: int = 0
    dataverse_calls: int = 0
    xero_calls: int = 0
    error: str = ""


def sweep_all(parts: SweepParts) -> list[SweepResult]:
    """Every active connection; one failing never stops the others (its mark stays where it was)."""
    results = []
    for connection in parts.connections.list_active():
        try:
            result = sweep_connection(connection, parts)
        except (RetriableError, FatalError, ReconnectRequired) as error:
            log.warning("sweep of connection %s stopped: %s (the next sweep covers it)", connection.id, error)
            result = SweepResult(connection.id, error=str(error))
        log.info("sweep of connection %s: %s", connection.id, result)
        results.append(result)
    return results


def sweep_connection(connection: Connection, parts: SweepParts) -> SweepResult:
    started = parts.now()
    last = parts.marks.last(connection.id)
    since = (last[0] if last else started - FIRST_LOOKBACK) - OVERLAP
    xero_since = last[1] if last else started - FIRST_LOOKBACK
    dataverse = parts.dataverse_for(connection)
    rows, dataverse_calls = _modified_dynamics_invoices(dataverse, since)
    dynamics_gaps = [r for r in rows if out_of_step(r)]
    for row in dynamics_gaps:
        parts.send_invoice_event(
            InvoiceEvent(
                connection_id=connection.id,
                invoice_id=str(row["invoiceid"]),
                version=row.get("versionnumber"),
                received_at=started.isoformat(),
                received_by=ORIGIN,
            )
        )
    xero_invoices, xero_calls = _modified_xero_invoices(parts.xero_for(connection), xero_since)
    # The Dynamics rows just read already answer for most Xero invoices changed lately (the connector's own
    # pushes changed both); only the others cost a lookup, one GET per 50.
    known = {str(r[schema.INVOICE_XERO_ID]).lower(): r for r in rows if r.get(schema.INVOICE_XERO_ID)}
    pairs = [(i, known[_id(i)]) for i in xero_invoices if _id(i) in known]
    others = [i for i in xero_invoices if _id(i) not in known]
    for chunk in _chunks(others, MAX_IDS):
        by_id = {_id(i): i for i in chunk}
        found = rows_for(dataverse, list(by_id))
        dataverse_calls += 1
        pairs += [
            (by_id[str(r[schema.INVOICE_XERO_ID]).lower()], r)
            for r in found
            if str(r[schema.INVOICE_XERO_ID]).lower() in by_id
        ]
    close_paid = connection.sync.close_paid_invoices
    xero_gaps = [_id(i) for i, row in pairs if change_for(i, row, close_paid) is not None]
    tenant = connection.xero.tenant_id
    for message in messages_for(tenant, xero_gaps, started.isoformat(), ORIGIN) if xero_gaps else []:
        parts.send_xero_message(message)
    parts.marks.save(connection.id, started, _next_xero_mark(xero_invoices, xero_since))
    return SweepResult(connection.id, len(dynamics_gaps), len(xero_gaps), dataverse_calls, xero_calls)


def _modified_dynamics_invoices(dataverse: Dataverse, since: datetime) -> tuple[list[dict[str, Any]], int]:
    query = (
        f"invoices?$select={','.join(SWEEP_COLUMNS)}"
        f"&$filter=modifiedon gt {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    )
    rows: list[dict[str, Any]] = []
    calls, link = 0, query
    while link:  # a next link stays on the environment's own origin (the client refuses any other)
        page = dataverse.get(link)
        calls += 1
        rows += page.get("value", [])
        link = str(page.get("@odata.nextLink") or "")
    return rows, calls


def _modified_xero_invoices(xero: XeroAccounting, since: datetime) -> tuple[list[dict[str, Any]], int]:
    found: list[dict[str, Any]] = []
    for page in range(1, MAX_XERO_PAGES + 1):
        params = {"page": page, "where": 'Type=="ACCREC"'}
        batch = xero.get("Invoices", params, modified_since=since).get("Invoices", [])
        found += batch
        if len(batch) < PAGE_SIZE:
            return found, page
    log.warning("over %s pages of Xero invoices changed since %s: more next time", MAX_XERO_PAGES, since)
    return found, MAX_XERO_PAGES


def _next_xero_mark(xero_invoices: list[dict[str, Any]], previous: datetime) -> datetime:
    """The second after the newest change seen, on Xero's own clock: If-Modified-Since keeps what changed
    at or after it (whole seconds), so nothing seen is read again and no clock skew opens a gap."""
    newest = [m for i in xero_invoices if (m := parse_ms_date(str(i.get("UpdatedDateUTC") or "")))]
    if not newest:
        return previous
    return max(previous, max(newest).replace(microsecond=0) + timedelta(seconds=1))


def _id(xero_invoice: dict[str, Any]) -> str:
    return str(xero_invoice.get("InvoiceID", "")).lower()


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for at in range(0, len(items), size):
        yield items[at : at + size]
