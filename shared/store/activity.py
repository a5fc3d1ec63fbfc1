"""What happened to each invoice today, per connection: ids, numbers, outcomes and messages only.

One row per (connection, day, invoice), upserted: pushes of different invoices never contend for a row,
a redelivered event overwrites its own row, and the portal's counts are a query of one day's rows.
Rows of an invoice still being retried ("retrying") carry the last transient error, which is what the
poison-queue function writes back when the retries run out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from shared.config import Settings
from shared.store.models import utc_now
from shared.store.tables import table_client

ACTIVITY = "activity"
Outcome = Literal["pushed", "unchanged", "skipped", "failed", "retrying", "covered", "handed-over"]
MESSAGE_LIMIT = 1000


@dataclass(frozen=True)
class InvoiceActivity:
    invoice_id: str
    invoice_number: str
    outcome: Outcome
    message: str
    at: datetime


@dataclass(frozen=True)
class DaySummary:
    pushed: int
    failed: int
    skipped: int
    last_errors: list[InvoiceActivity]
    warnings: int = 0  # sent, but Xero's total differs from the Dynamics total (shared/sync/reconcile.py)


class ActivityLog:
    def __init__(self, table: Any, clock: Callable[[], datetime] = utc_now) -> None:
        self._table = table
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> ActivityLog:
        return cls(table_client(settings, ACTIVITY))

    def record(
        self, connection_id: str, invoice_id: str, invoice_number: str, outcome: Outcome, message: str = ""
    ) -> None:
        at = self._clock()
        self._table.upsert_entity(
            {
                "PartitionKey": connection_id,
                "RowKey": f"{at:%Y-%m-%d}|{invoice_id}",
                "invoice_number": invoice_number[:100],
                "outcome": outcome,
                "message": message[:MESSAGE_LIMIT],
                "at": at,
            }
        )

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

    def day(self, connection_id: str, day: datetime | None = None) -> list[InvoiceActivity]:
        prefix = f"{(day or self._clock()):%Y-%m-%d}|"
        rows = self._table.query_entities(
            "PartitionKey eq @p and RowKey ge @low and RowKey lt @high",
            parameters={"p": connection_id, "low": prefix, "high": prefix[:-1] + "}"},
        )
        return sorted((_row(r) for r in rows), key=lambda a: a.at, reverse=True)

    def summary(self, connection_id: str, keep_errors: int = 10) -> DaySummary:
        today = self.day(connection_id)
        failed = [a for a in today if a.outcome == "failed"]
        return DaySummary(
            pushed=sum(a.outcome in ("pushed", "unchanged") for a in today),
            failed=len(failed),
            skipped=sum(a.outcome == "skipped" for a in today),
            last_errors=failed[:keep_errors],
            warnings=sum(a.outcome == "pushed" and a.message.startswith("Warning: ") for a in today),
        )


def _row(entity: Any) -> InvoiceActivity:
    at = entity.get("at")
    if isinstance(at, datetime) and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return InvoiceActivity(
        invoice_id=str(entity["RowKey"]).split("|", 1)[1],
        invoice_number=str(entity.get("invoice_number", "")),
        outcome=entity.get("outcome", "failed"),
        message=str(entity.get("message", "")),
        at=at if isinstance(at, datetime) else datetime.min.replace(tzinfo=UTC),
    )
