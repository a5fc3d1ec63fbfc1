"""What the portal does with a backfill: check what the person chose, estimate it, start it, stop it.

The estimate counts the invoices in the selection exactly (ids only, 5,000 a page, Dataverse's
default; its $count stops at 5,000, Learn "Count number of rows") and turns them into Xero calls — one
PUT per 50 invoices, two more per page with customers new to Xero — and those into time under Xero's
limits: 60 calls a
minute and 5,000 a day per organisation (FACTS.md, "Limits"), shared with the live pushes, which come
first (they take what they need; the estimate assumes none are saved meanwhile)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from shared.backfill.query import (
    OPEN_STATUS_REASONS,
    PAGE_SIZE,
    Selection,
    count_query,
    customer_known_to_xero,
    parse_day,
)
from shared.backfill.runner import PageMessage
from shared.dataverse import schema
from shared.errors import ConcurrencyError
from shared.store.backfills import Backfill, BackfillStore
from shared.store.models import Connection
from shared.sync.write_back import Dataverse
from shared.xero.budget import DAY_HEADROOM, DAY_LIMIT, MINUTE_HEADROOM, MINUTE_LIMIT, Priority

# What the backfill may use of the organisation's budget (shared/xero/budget.py: it never takes the last
# calls of the minute or the day, which stay for the live pushes), when nothing else is sent meanwhile.
PER_MINUTE = MINUTE_LIMIT - MINUTE_HEADROOM[Priority.BULK]
PER_DAY = DAY_LIMIT - DAY_HEADROOM[Priority.BULK]
# A page's Dataverse read, its Xero calls and its $batch write-back: 3.5 s measured by bench/backfill.py
# against the sandboxes on a busy 2-core machine (5,000 invoices in 6.2 minutes with a kill); unverified
# against a real Dataverse, where the read of 50 invoices with their lines may be faster or slower.
PAGE_SECONDS = 3.5
LONGEST = timedelta(days=366 * 10)
FIELD_FROM, FIELD_TO, FIELD_STATUS = "backfill_from", "backfill_to", "backfill_status_"


class Refused(ValueError):
    """What the person chose cannot be run; the message says why, in words for the portal."""

    def __init__(self, message: str, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.field_errors = field_errors or {}


@dataclass(frozen=True)
class Estimate:
    invoices: int  # in the selection
    in_xero: int  # of which already carry a Xero id
    new_customers: int
    xero_calls: int
    minutes: float

    @property
    def to_send(self) -> int:
        return self.invoices - self.in_xero


def selection_from_form(form: dict[str, str], connection: Connection) -> Selection:
    errors = {}
    start, end = parse_day(form.get(FIELD_FROM, "")), parse_day(form.get(FIELD_TO, ""))
    if start is None:
        errors[FIELD_FROM] = "Enter the first invoice date as YYYY-MM-DD."
    if end is None:
        errors[FIELD_TO] = "Enter the last invoice date as YYYY-MM-DD."
    if start and end and end < start:
        errors[FIELD_TO] = "The last date must not be before the first."
    if start and end and end - start > LONGEST:
        errors[FIELD_FROM] = "Choose at most ten years at a time."
    reasons = tuple(
        code for code, _ in OPEN_STATUS_REASONS if form.get(f"{FIELD_STATUS}{code}") in ("true", "on")
    )
    if not reasons:
        errors[f"{FIELD_STATUS}{OPEN_STATUS_REASONS[0][0]}"] = "Choose at least one status."
    if errors:
        raise Refused("Check the backfill's dates and statuses.", errors)
    assert start is not None and end is not None
    return Selection(start, end, reasons, connection.sync.require_send_flag)


def estimate(dataverse: Dataverse, selection: Selection) -> Estimate:
    rows = _all(dataverse, count_query(selection))
    in_xero = sum(1 for r in rows if r.get(schema.INVOICE_XERO_ID))
    customers = {
        str(r.get("_customerid_value") or "")
        for r in rows
        if not r.get(schema.INVOICE_XERO_ID) and not customer_known_to_xero(r)
    }
    to_send = len(rows) - in_xero
    pages = math.ceil(to_send / PAGE_SIZE)
    # a PUT of invoices a page; on a page with customers new to Xero a PUT of contacts and a read of their
    # payment terms; the items read and written once, the organisation read once. A new customer whose
    # name Xero already holds costs up to two lookups more, which nothing tells beforehand.
    calls = pages + 2 * min(pages, len(customers)) + (3 if to_send else 0)
    minutes = max(calls / PER_MINUTE, pages * PAGE_SECONDS / 60)
    minutes += (calls // PER_DAY) * 24 * 60  # each full day's budget spent: wait for the next day
    return Estimate(len(rows), in_xero, len(customers), calls, minutes)


def start(
    jobs: BackfillStore,
    connection: Connection,
    selection: Selection,
    total: int,
    send: Callable[[str, int], Any],
    now: datetime,
) -> Backfill:
    if connection.status != "active":
        raise Refused("Start syncing first: the backfill sends through the running connection.")
    current = jobs.get(connection.id)
    if current is not None and current.status == "running":
        raise Refused("A backfill is running already: stop it first, or wait for it to finish.")
    job = Backfill(
        connection_id=connection.id,
        job_id=uuid.uuid4().hex,
        status="running",
        date_from=selection.date_from.isoformat(),
        date_to=selection.date_to.isoformat(),
        status_reasons=selection.status_reasons,
        total=total,
        started_at=now,
    )
    try:
        job = jobs.create(job, current)
    except ConcurrencyError:
        raise Refused("Another backfill was started at the same moment: see its progress below.") from None
    send(PageMessage(job.connection_id, job.job_id, 0).to_json(), 0)
    return job


def stop(jobs: BackfillStore, connection_id: str, now: datetime) -> Backfill | None:
    def stopped(current: Backfill) -> Backfill | None:
        if current.status != "running":
            return None
        return replace(current, status="stopped", finished_at=now, message="stopped in the portal")

    return jobs.update(connection_id, stopped)


def default_range(today: date) -> tuple[date, date]:
    """What the form proposes: the last twelve months up to yesterday (the live push has today)."""
    return today - timedelta(days=365), today - timedelta(days=1)


def _all(dataverse: Dataverse, query: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    link = query
    while link:  # the next link stays on the environment's own origin (the client refuses any other)
        page = dataverse.get(link)  # 5,000 rows a page: Dataverse's default (Learn, "Page results")
        rows += page.get("value", [])
        link = str(page.get("@odata.nextLink") or "")
    return rows
