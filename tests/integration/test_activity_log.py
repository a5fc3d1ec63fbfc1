"""The per-invoice activity log on a real Azurite: what the portal's Activity section and the poison
function read. Ids, numbers, outcomes and messages only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.config import Settings
from shared.store.activity import ActivityLog
from shared.store.tables import table_client


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log(storage_connection: str, unique_name: str, clock: Clock) -> ActivityLog:
    settings = Settings.from_env({"AzureWebJobsStorage": storage_connection, "TABLE_PREFIX": unique_name})
    return ActivityLog(table_client(settings, "activity"), clock)


def test_one_row_per_invoice_and_day_the_latest_outcome_wins(log: ActivityLog, clock: Clock) -> None:
    log.record("c1", "inv-1", "INV-001", "retrying", "Xero answered 503")
    clock.now += timedelta(minutes=1)
    log.record("c1", "inv-1", "INV-001", "pushed")
    log.record("c1", "inv-2", "INV-002", "failed", "Xero says: Invoice # must be unique")
    log.record("c1", "inv-3", "INV-003", "skipped", "skipped: the invoice has no lines")
    log.record("c2", "inv-9", "INV-009", "failed", "another connection's")

    summary = log.summary("c1")
    assert (summary.pushed, summary.failed, summary.skipped) == (1, 1, 1)
    assert [(e.invoice_number, e.message) for e in summary.last_errors] == [
        ("INV-002", "Xero says: Invoice # must be unique")
    ]
    latest = log.latest("c1", "inv-1")
    assert latest is not None and latest.outcome == "pushed"


def test_days_are_kept_apart_and_the_latest_looks_back_a_day(log: ActivityLog, clock: Clock) -> None:
    log.record("c1", "inv-1", "INV-001", "retrying", "Xero answered 500")
    clock.now += timedelta(days=1)
    assert log.summary("c1").failed == 0
    latest = log.latest("c1", "inv-1")
    assert latest is not None and latest.message == "Xero answered 500"


def test_the_last_errors_are_the_newest_ten(log: ActivityLog, clock: Clock) -> None:
    for n in range(12):
        clock.now += timedelta(seconds=1)
        log.record("c1", f"inv-{n}", f"INV-{n:03d}", "failed", "no")
    errors = log.summary("c1").last_errors
    assert len(errors) == 10 and errors[0].invoice_number == "INV-011"


def test_rows_past_the_retention_expire_for_every_connection_and_are_never_listed(
    log: ActivityLog, clock: Clock
) -> None:
    from shared.store.activity import RETENTION_DAYS

    start = clock.now
    log.record("c1", "inv-old", "INV-OLD", "pushed")
    log.record("c2", "inv-old2", "INV-OLD2", "failed", "no")
    clock.now = start + timedelta(days=RETENTION_DAYS - 1)
    log.record("c1", "inv-kept", "INV-KEPT", "pushed")
    everything = (start.date(), clock.now.date())
    assert [a.invoice_number for a in log.each("c1", *everything)] == ["INV-KEPT", "INV-OLD"]

    clock.now = start + timedelta(days=RETENTION_DAYS)  # the first rows' day is now past the retention
    assert [a.invoice_number for a in log.each("c1", *everything)] == ["INV-KEPT"]
    assert log.one("c1", start.date(), "inv-old") is None
    assert log.expire() == 2
    assert [e["RowKey"] for e in log.table.list_entities()] == [
        f"{start + timedelta(days=RETENTION_DAYS - 1):%Y-%m-%d}|inv-kept"
    ]


def test_a_retry_recorded_without_the_number_keeps_the_number_and_xero_id_already_known(
    log: ActivityLog, clock: Clock
) -> None:
    log.record("c1", "inv-1", "INV-001", "pushed", latency_ms=1500, xero_invoice_id="x-1", short_code="!abc")
    log.record("c1", "inv-1", "", "retrying", "Xero answered 503")
    [row] = log.day("c1")
    assert (row.invoice_number, row.xero_invoice_id, row.short_code, row.outcome) == (
        "INV-001",
        "x-1",
        "!abc",
        "retrying",
    )
    assert row.latency_ms == -1  # the latency belongs to the push that reached Xero, not to this try
