"""What happened to each invoice, per connection and day: ids, numbers, outcomes, times, the latency from
save to Xero and messages — never amounts, names or lines (the connection-metadata rule).

One row per (connection, UTC day, invoice), upserted in one write: pushes of different invoices never
contend for a row, a redelivered event overwrites its own row, a day is one RowKey range (newest first is
a sort of one day's rows), and the push's table writes stay at one per outcome. Rows of an invoice still
being retried ("retrying") carry the last transient error, which is what the poison-queue function
writes back when the retries run out. Rows older than RETENTION_DAYS are deleted by `expire` (a daily
timer, functions/activity_expiry.py) and never listed."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from azure.core.exceptions import ResourceExistsError

from shared.config import Settings
from shared.store.models import utc_now
from shared.store.tables import table_client

ACTIVITY = "activity"
Outcome = Literal[
    "pushed", "updated", "unchanged", "skipped", "failed", "retrying", "waiting", "covered", "handed-over"
]
SENT = ("pushed", "updated", "unchanged")  # what "Sent to Xero" counts
MESSAGE_LIMIT = 1000
RETENTION_DAYS = 90
NO_LATENCY = -1
DAYS_SUFFIX = "|days"  # the partition of each day's figures (activity_days.py)
_LISTED = [
    "RowKey", "invoice_number", "outcome", "message", "at", "latency_ms", "xero_invoice_id", "short_code",
    "xero_minute_left", "xero_day_left",
]  # fmt: skip


@dataclass(frozen=True)
class InvoiceActivity:
    invoice_id: str
    invoice_number: str
    outcome: Outcome
    message: str
    at: datetime
    latency_ms: int = NO_LATENCY  # from the save in Dynamics (the webhook's arrival) to Xero's answer
    xero_invoice_id: str = ""
    short_code: str = ""  # the Xero organisation's, for a deep link that opens the right organisation
    # Xero's X-MinLimit-Remaining / X-DayLimit-Remaining on its last answer to this push (-1: unknown)
    xero_minute_left: int = -1
    xero_day_left: int = -1


@dataclass(frozen=True)
class DaySummary:
    pushed: int
    failed: int
    skipped: int
    last_errors: list[InvoiceActivity]
    warnings: int = 0  # sent, but Xero's total differs from the Dynamics total (shared/sync/reconcile.py)


@dataclass(frozen=True)
class ActivityPage:
    rows: list[InvoiceActivity]
    has_more: bool


class ActivityLog:
    def __init__(self, table: Any, clock: Callable[[], datetime] = utc_now) -> None:
        self._table = table
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> ActivityLog:
        return cls(table_client(settings, ACTIVITY))

    @property
    def table(self) -> Any:
        return self._table

    def now(self) -> datetime:
        return self._clock()

    def record(
        self,
        connection_id: str,
        invoice_id: str,
        invoice_number: str,
        outcome: Outcome,
        message: str = "",
        *,
        latency_ms: int = NO_LATENCY,
        xero_invoice_id: str = "",
        short_code: str = "",
        xero_left: tuple[int, int] = (-1, -1),
    ) -> None:
        """One upsert (merge): ids already known on the day's row (number, Xero id) are kept when this
        outcome does not know them (a retry recorded before the invoice was read)."""
        at = self._clock()
        entity: dict[str, Any] = {
            "PartitionKey": connection_id,
            "RowKey": f"{at:%Y-%m-%d}|{invoice_id}",
            "outcome": outcome,
            "message": message[:MESSAGE_LIMIT],
            "at": at,
            "latency_ms": int(latency_ms),
            "xero_minute_left": int(xero_left[0]),
            "xero_day_left": int(xero_left[1]),
        }
        for name, value in (
            ("invoice_number", invoice_number[:100]),
            ("xero_invoice_id", xero_invoice_id[:36]),
            ("short_code", short_code[:20]),
        ):
            if value:
                entity[name] = value
        self._table.upsert_entity(entity)

    def record_if_first(self, connection_id: str, invoice_id: str, outcome: Outcome, message: str) -> bool:
        """The outcome only when the invoice has no row today (one insert, no read): an event that waits
        must not hide what an earlier push of the same invoice did, and it may end up covered by that
        push without recording anything itself. False when a row was there."""
        at = self._clock()
        entity = {
            "PartitionKey": connection_id,
            "RowKey": f"{at:%Y-%m-%d}|{invoice_id}",
            "outcome": outcome,
            "message": message[:MESSAGE_LIMIT],
            "at": at,
            "latency_ms": NO_LATENCY,
        }
        try:
            self._table.create_entity(entity)
        except ResourceExistsError:
            return False
        return True

    def latest(self, connection_id: str, invoice_id: str, days: int = 2) -> InvoiceActivity | None:
        """The newest row of an invoice within the last `days` days."""
        today = self._clock()
        for back in range(days):
            key = f"{today - timedelta(days=back):%Y-%m-%d}|{invoice_id}"
            found = list(
                self._table.query_entities(
                    "PartitionKey eq @p and RowKey eq @r", parameters={"p": connection_id, "r": key}
                )
            )
            if found:
                return _row(found[0])
        return None

    def one(self, connection_id: str, day: date, invoice_id: str) -> InvoiceActivity | None:
        """The row of one invoice on one day, while it is kept."""
        if day < self.oldest_kept():
            return None
        key = f"{day:%Y-%m-%d}|{invoice_id}"
        found = self._table.query_entities(
            "PartitionKey eq @p and RowKey eq @r", parameters={"p": connection_id, "r": key}
        )
        return next((_row(entity) for entity in found), None)

    def day(self, connection_id: str, day: datetime | None = None) -> list[InvoiceActivity]:
        when = (day or self._clock()).date()
        return sorted(self._rows(connection_id, when, when), key=lambda a: a.at, reverse=True)

    def summary(self, connection_id: str, keep_errors: int = 10) -> DaySummary:
        today = self.day(connection_id)
        failed = [a for a in today if a.outcome == "failed"]
        return DaySummary(
            pushed=sum(a.outcome in SENT for a in today),
            failed=len(failed),
            skipped=sum(a.outcome == "skipped" for a in today),
            last_errors=failed[:keep_errors],
            warnings=sum(
                a.outcome in ("pushed", "updated") and a.message.startswith("Warning: ") for a in today
            ),
        )

    def oldest_kept(self) -> date:
        return self._clock().date() - timedelta(days=RETENTION_DAYS - 1)

    def page(
        self,
        connection_id: str,
        first: date,
        last: date,
        outcomes: Collection[str] = (),
        offset: int = 0,
        limit: int = 50,
        read: Mapping[date, list[InvoiceActivity]] | None = None,
    ) -> ActivityPage:
        """Rows from `last` back to `first` (UTC days), newest first, of the given outcomes (all when
        empty). Reads the newest day, then a week, then the rest: the first page of a busy connection
        costs one day's rows, whatever the range. `read`: rows of whole days the caller holds already."""
        wanted = offset + limit + 1
        found: list[InvoiceActivity] = []
        for low, high in _windows(max(first, self.oldest_kept()), last):
            if read is not None and low == high and low in read:  # this day's rows, read already
                rows = [r for r in read[low] if not outcomes or r.outcome in outcomes]
            else:
                rows = self._rows(connection_id, low, high, outcomes)
            found.extend(sorted(rows, key=lambda a: a.at, reverse=True))
            if len(found) >= wanted:
                break
        return ActivityPage(found[offset : offset + limit], len(found) > offset + limit)

    def each(
        self, connection_id: str, first: date, last: date, outcomes: Collection[str] = ()
    ) -> Iterator[InvoiceActivity]:
        """Every row of the range, newest day first (the CSV export)."""
        for low, high in _windows(max(first, self.oldest_kept()), last, step=1):
            yield from sorted(
                self._rows(connection_id, low, high, outcomes), key=lambda a: a.at, reverse=True
            )

    def rows(self, connection_id: str, first: date, last: date) -> list[InvoiceActivity]:
        """Every row of the UTC days `first`..`last`, in no particular order."""
        return self._rows(connection_id, first, last)

    def _rows(
        self, connection_id: str, first: date, last: date, outcomes: Collection[str] = ()
    ) -> list[InvoiceActivity]:
        if first > last:
            return []
        parameters: dict[str, Any] = {
            "p": connection_id,
            "low": f"{first:%Y-%m-%d}|",
            "high": f"{last:%Y-%m-%d}}}",
        }
        query = "PartitionKey eq @p and RowKey ge @low and RowKey lt @high"
        if outcomes:
            names = sorted(outcomes)
            parameters.update({f"o{n}": name for n, name in enumerate(names)})
            # spaces around the parentheses: the SDK finds @names by splitting the filter on spaces
            query += " and ( " + " or ".join(f"outcome eq @o{n}" for n in range(len(names))) + " )"
        rows = self._table.query_entities(query, parameters=parameters, select=_LISTED)
        return [_row(entity) for entity in rows]

    def forget(self, connection_id: str) -> int:
        """Delete every row of a connection, and its days' figures (the connection was deleted)."""
        gone = 0
        for partition in (connection_id, connection_id + DAYS_SUFFIX):
            rows = self._table.query_entities(
                "PartitionKey eq @p", parameters={"p": partition}, select=["PartitionKey", "RowKey"]
            )
            gone += self._delete(rows)
        return gone

    def _delete(self, rows: Iterable[Any]) -> int:
        gone = 0
        for entity in rows:
            self._table.delete_entity(entity["PartitionKey"], entity["RowKey"])
            gone += 1
        return gone

    def expire(self) -> int:
        """Delete every row older than the retention (all connections); returns how many went."""
        cutoff = f"{self.oldest_kept():%Y-%m-%d}"
        old = self._table.query_entities(
            "RowKey lt @cutoff", parameters={"cutoff": cutoff}, select=["PartitionKey", "RowKey"]
        )
        return self._delete(old)


def _windows(first: date, last: date, step: int = 0) -> Iterator[tuple[date, date]]:
    """(low, high) day ranges from `last` back to `first`: one day, then seven, then the rest (or days
    of `step` each)."""
    high, sizes = last, iter((1, 7))
    while high >= first:
        size = step or next(sizes, (high - first).days + 1)
        low = max(first, high - timedelta(days=size - 1))
        yield low, high
        high = low - timedelta(days=1)


def _row(entity: Any) -> InvoiceActivity:
    at = entity.get("at")
    if isinstance(at, datetime) and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    latency = entity.get("latency_ms")
    return InvoiceActivity(
        invoice_id=str(entity["RowKey"]).split("|", 1)[1],
        invoice_number=str(entity.get("invoice_number", "")),
        outcome=entity.get("outcome", "failed"),
        message=str(entity.get("message", "")),
        at=at if isinstance(at, datetime) else datetime.min.replace(tzinfo=UTC),
        latency_ms=_int(latency),
        xero_invoice_id=str(entity.get("xero_invoice_id", "")),
        short_code=str(entity.get("short_code", "")),
        xero_minute_left=_int(entity.get("xero_minute_left")),
        xero_day_left=_int(entity.get("xero_day_left")),
    )


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int) else -1
