"""Each day's figures of a connection's activity, for the Activity page's charts: invoices per outcome and
the save-to-Xero latency's p50/p95, plus what Xero last said is left of its limits.

A finished UTC day never changes (rows are keyed by the day they were written), so its figures are
computed once, on the first page view after it ended, and kept in one row of the partition
"<connection>|days" (one batch write for every day missing). The push writes nothing here: a page view
then costs one query of those rows and one of today's rows, whatever the history. The rows are
expired with the activity (same day-first RowKey) and deleted with the connection."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from shared.store.activity import DAYS_SUFFIX, ActivityLog, InvoiceActivity

CHART_DAYS = 30
# The chart's outcomes, as the Activity page's filter names them; "waiting" covers retries too.
KINDS = ("sent", "updated", "unchanged", "skipped", "failed", "waiting")
_KIND = {
    "pushed": "sent", "updated": "updated", "unchanged": "unchanged", "skipped": "skipped",
    "failed": "failed", "waiting": "waiting", "retrying": "waiting",
}  # fmt: skip
SETTLED = timedelta(minutes=5)  # a day's figures are kept once the day is this long over


def days_partition(connection_id: str) -> str:
    return connection_id + DAYS_SUFFIX


@dataclass(frozen=True)
class DayFigures:
    day: date
    counts: dict[str, int] = field(default_factory=dict)  # kind -> invoices
    p50_ms: int = -1  # -1: no invoice reached Xero that day
    p95_ms: int = -1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class XeroLeft:
    """Xero's X-MinLimit-Remaining and X-DayLimit-Remaining on the newest push's last answer, and when."""

    minute_left: int
    day_left: int
    at: datetime


@dataclass(frozen=True)
class Glance:
    days: list[DayFigures]  # oldest first, CHART_DAYS of them, today last
    xero: XeroLeft | None


def figures_of(day: date, rows: Iterable[InvoiceActivity]) -> DayFigures:
    counts: dict[str, int] = defaultdict(int)
    latencies: list[int] = []
    for row in rows:
        kind = _KIND.get(row.outcome)
        if kind:
            counts[kind] += 1
        if row.outcome in ("pushed", "updated") and row.latency_ms >= 0:
            latencies.append(row.latency_ms)
    latencies.sort()
    return DayFigures(day, dict(counts), percentile(latencies, 50), percentile(latencies, 95))


def percentile(ordered: list[int], q: int) -> int:
    """Nearest rank (the smallest value with at least q% of the values at or below it); -1 for none."""
    if not ordered:
        return -1
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def glance(
    log: ActivityLog,
    connection_id: str,
    now: datetime,
    days: int = CHART_DAYS,
    today_rows: list[InvoiceActivity] | None = None,
) -> Glance:
    """`today_rows`: today's rows when the caller read them already (the Activity page's first page)."""
    today = now.date()
    first = today - timedelta(days=days - 1)
    kept = _kept(log.table, connection_id, first)
    settled_before = (now - SETTLED).date()  # days before this one are over (and settled)
    missing = [d for d in _days(first, today) if d not in kept and d < settled_before]
    if missing:
        found = _grouped(log.rows(connection_id, missing[0], missing[-1]))
        computed = [figures_of(d, found.get(d, ())) for d in missing]
        _keep(log.table, connection_id, computed)
        kept.update({f.day: f for f in computed})
    live_from = min(settled_before, today)
    if today_rows is not None and live_from == today:
        live = _grouped(today_rows)
    else:
        live = _grouped(log.rows(connection_id, live_from, today))
    figures = [kept.get(d) or figures_of(d, live.get(d, ())) for d in _days(first, today)]
    return Glance(figures, _xero_left(live.get(today, ())))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _grouped(rows: Iterable[InvoiceActivity]) -> dict[date, list[InvoiceActivity]]:
    grouped: dict[date, list[InvoiceActivity]] = defaultdict(list)
    for row in rows:
        grouped[row.at.date()].append(row)
    return grouped


def _xero_left(rows: Iterable[InvoiceActivity]) -> XeroLeft | None:
    told = [r for r in rows if r.xero_minute_left >= 0 and r.xero_day_left >= 0]
    if not told:
        return None
    newest = max(told, key=lambda r: r.at)
    return XeroLeft(newest.xero_minute_left, newest.xero_day_left, newest.at)


def _kept(table: Any, connection_id: str, first: date) -> dict[date, DayFigures]:
    rows = table.query_entities(
        "PartitionKey eq @p and RowKey ge @low",
        parameters={"p": days_partition(connection_id), "low": f"{first:%Y-%m-%d}"},
    )
    kept = {}
    for entity in rows:
        day = date.fromisoformat(str(entity["RowKey"]))
        counts = {kind: int(entity.get(kind, 0)) for kind in KINDS if entity.get(kind)}
        kept[day] = DayFigures(day, counts, int(entity.get("p50_ms", -1)), int(entity.get("p95_ms", -1)))
    return kept


def _keep(table: Any, connection_id: str, figures: list[DayFigures]) -> None:
    """One batch per 100 days (a transaction's limit): the page's only write, once per finished day."""
    entities = [
        {
            "PartitionKey": days_partition(connection_id),
            "RowKey": f"{f.day:%Y-%m-%d}",
            "p50_ms": f.p50_ms,
            "p95_ms": f.p95_ms,
            **{kind: f.counts.get(kind, 0) for kind in KINDS},
        }
        for f in figures
    ]
    for start in range(0, len(entities), 100):
        table.submit_transaction([("upsert", entity) for entity in entities[start : start + 100]])
