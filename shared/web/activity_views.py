"""What the Activity page shows, as plain values: the filter read from the query (outcome, dates, page),
each invoice's row in words (outcome, time in the connection's zone, save-to-Xero latency, links to the
invoice in Xero and in Dynamics, the error split into what went wrong and its fix), and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.store.activity import NO_LATENCY, InvoiceActivity
from shared.sync.write_back import invoice_link

PAGE_SIZE = 50
DEFAULT_DAYS = 30
# The filter's choices: what a bookkeeper calls them -> the stored outcomes they cover.
OUTCOMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sent": ("Sent (new in Xero)", ("pushed",)),
    "updated": ("Updated in Xero", ("updated",)),
    "unchanged": ("Unchanged (nothing to send)", ("unchanged",)),
    "skipped": ("Skipped", ("skipped",)),
    "failed": ("Failed", ("failed",)),
    "waiting": ("Waiting (Xero's limit or a retry)", ("waiting", "retrying")),
}
_WORDS = {stored: key for key, (_, covered) in OUTCOMES.items() for stored in covered}
_SHORT = {
    "sent": "Sent", "updated": "Updated", "unchanged": "Unchanged", "skipped": "Skipped",
    "failed": "Failed", "waiting": "Waiting",
}  # fmt: skip
FIX = " — fix: "


@dataclass(frozen=True)
class ActivityFilter:
    outcome: str  # a key of OUTCOMES, or "" for all
    first: date
    last: date
    page: int

    @property
    def outcomes(self) -> tuple[str, ...]:
        return OUTCOMES[self.outcome][1] if self.outcome else ()

    def query(self, **changes: object) -> str:
        values = {"outcome": self.outcome, "from": f"{self.first}", "to": f"{self.last}", "page": self.page}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def read_filter(query: Mapping[str, str], today: date, oldest: date) -> tuple[ActivityFilter, dict[str, str]]:
    """The filter from the query string, with an error per field that could not be read (that field
    falls back to its default, so the page still shows something)."""
    errors: dict[str, str] = {}
    outcome = query.get("outcome", "")
    if outcome not in OUTCOMES and outcome != "":
        errors["outcome"] = "Choose one of the outcomes listed."
        outcome = ""
    last = _day(query.get("to", ""), today, "to", errors)
    first = _day(query.get("from", ""), today - timedelta(days=DEFAULT_DAYS - 1), "from", errors)
    if first > last:
        errors["from"] = "The first day must not be after the last day."
        first = last
    if first < oldest:
        first = oldest  # older rows are gone (RETENTION_DAYS): say nothing, show what is kept
    try:
        page = max(1, min(int(query.get("page", "1") or "1"), 10_000))
    except ValueError:
        page = 1
    return ActivityFilter(outcome, first, min(last, today), page), errors


def _day(text: str, default: date, name: str, errors: dict[str, str]) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "Give the day as year-month-day, e.g. 2026-12-08."
        return default


@dataclass(frozen=True)
class ActivityRow:
    row_key: str  # "day|invoice id": what Retry names
    number: str
    outcome: str  # a key of OUTCOMES
    outcome_words: str
    when: str
    when_iso: str
    latency: str
    problem: str
    fix: str
    xero_href: str
    dynamics_href: str
    retry: bool


def row_view(activity: InvoiceActivity, zone_name: str, xero_web_url: str, org_url: str) -> ActivityRow:
    zone = zone_of(zone_name)
    outcome = _WORDS.get(activity.outcome, "failed")
    problem, _, fix = activity.message.partition(FIX)
    if activity.outcome == "retrying" and problem:
        problem = f"Trying again after: {problem}"
    return ActivityRow(
        row_key=f"{activity.at:%Y-%m-%d}|{activity.invoice_id}",
        number=activity.invoice_number or "(no number yet)",
        outcome=outcome,
        outcome_words=_SHORT[outcome],
        when=f"{activity.at.astimezone(zone):%d %b %Y, %H:%M:%S}",
        when_iso=activity.at.isoformat(),
        latency=latency_text(activity.latency_ms),
        problem=problem,
        fix=fix,
        xero_href=invoice_link(activity.xero_invoice_id, xero_web_url, activity.short_code)
        if activity.xero_invoice_id
        else "",
        dynamics_href=dynamics_link(org_url, activity.invoice_id),
        retry=activity.outcome == "failed",
    )


def latency_text(milliseconds: int) -> str:
    if milliseconds == NO_LATENCY:
        return ""
    if milliseconds < 10_000:
        return f"{milliseconds / 1000:.1f} s"
    if milliseconds < 120_000:
        return f"{round(milliseconds / 1000)} s"
    return f"{milliseconds / 60_000:.0f} min"


def dynamics_link(org_url: str, invoice_id: str) -> str:
    """The invoice's form in Dynamics (Learn: "Open forms, views, dialogs, and reports with a URL")."""
    if not org_url.startswith("https://"):
        return ""
    return f"{org_url.rstrip('/')}/main.aspx?pagetype=entityrecord&etn=invoice&id={invoice_id.lower()}"


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


CSV_COLUMNS = (
    "time_utc", "dynamics_invoice_id", "invoice_number", "outcome", "save_to_xero_ms", "xero_invoice_id",
    "message",
)  # fmt: skip


def csv_bytes(rows: Iterable[InvoiceActivity]) -> bytes:
    """The rows as CSV (RFC 4180, UTF-8 with a BOM so spreadsheet programs read it as UTF-8). A cell that
    a spreadsheet would run as a formula (=, +, -, @, tab, CR first; OWASP "CSV Injection") gets a
    leading apostrophe: messages quote what Xero and Dynamics said, which can carry what someone typed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        latency = "" if row.latency_ms == NO_LATENCY else str(row.latency_ms)
        cells = (
            row.at.strftime("%Y-%m-%dT%H:%M:%SZ"), row.invoice_id, row.invoice_number,
            _WORDS.get(row.outcome, row.outcome), latency, row.xero_invoice_id, row.message,
        )  # fmt: skip
        writer.writerow([_inert(cell) for cell in cells])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _inert(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def parse_row_key(text: str) -> tuple[date, str] | None:
    """A posted "day|invoice id", strictly: a date and a GUID, nothing else reaches the table."""
    from shared.dataverse.values import is_guid

    day, _, invoice_id = text.partition("|")
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return None
    return (when, invoice_id.lower()) if is_guid(invoice_id) and len(day) == 10 else None


def day_start(day: date) -> datetime:
    from datetime import UTC

    return datetime(day.year, day.month, day.day, tzinfo=UTC)
