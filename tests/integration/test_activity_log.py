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


def test_finished_days_figures_are_kept_once_and_today_stays_live(log: ActivityLog, clock: Clock) -> None:
    from shared.store.activity_days import days_partition, glance

    start = clock.now
    log.record("c1", "inv-1", "INV-1", "pushed", latency_ms=800)
    log.record("c1", "inv-2", "INV-2", "failed", "no")
    clock.now = start + timedelta(days=2)  # the day between has no activity: a gap
    log.record("c1", "inv-3", "INV-3", "updated", latency_ms=2500, xero_left=(50, 4900))

    first = glance(log, "c1", clock.now)
    kept = list(log.table.query_entities("PartitionKey eq @p", parameters={"p": days_partition("c1")}))
    assert len(first.days) == 30 and len(kept) == 29  # every finished day once, today not
    assert [(d.counts, d.p50_ms) for d in first.days[-3:]] == [
        ({"sent": 1, "failed": 1}, 800),
        ({}, -1),
        ({"updated": 1}, 2500),
    ]
    assert first.xero is not None and (first.xero.minute_left, first.xero.day_left) == (50, 4900)

    # a later view reads the kept figures (a row written now under an old day would not change them)
    log.table.upsert_entity(
        {"PartitionKey": "c1", "RowKey": f"{start:%Y-%m-%d}|late", "outcome": "failed", "at": start}
    )
    log.record("c1", "inv-4", "INV-4", "failed", "no")
    again = glance(log, "c1", clock.now)
    assert again.days[-3].counts == {"sent": 1, "failed": 1} and again.days[-1].counts == {
        "updated": 1,
        "failed": 1,
    }

    assert log.forget("c1") == 4 + 1 + 29
    assert list(log.table.query_entities("PartitionKey eq @p", parameters={"p": days_partition("c1")})) == []


def test_a_wait_shows_only_for_an_invoice_without_a_row_today(log: ActivityLog, clock: Clock) -> None:
    log.record("c1", "inv-1", "INV-1", "pushed", latency_ms=900)
    # a later event of the same invoice waits for Xero's minute (and may end covered, recording nothing)
    assert log.record_if_first("c1", "inv-1", "waiting", "Waiting 12 s, as asked") is False
    assert log.record_if_first("c1", "inv-2", "waiting", "Waiting 12 s, as asked") is True
    rows = {a.invoice_id: a.outcome for a in log.day("c1")}
    assert rows == {"inv-1": "pushed", "inv-2": "waiting"}
