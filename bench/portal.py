"""The Activity page under a long history (issue 19): one connection with 10,000 invoices over 30 days in
a real Azurite, the portal served by the local Functions host in this process, a signed-in browser
without JavaScript.

- activity_p95_ms: GET /connections/{id}/activity (the first page of 50, the charts, Xero's usage) over
  --requests views, after one warm-up view (activity_cold_ms: the first view after the days ended,
  which computes and keeps the 29 finished days' figures once);
- failed_p95_ms: the same page filtered to failures (a rare outcome: every day of the range is read);
- chart_p95_ms: the charts' figures and geometry alone (shared/web/activity_charts.charts_for);
- csv_ms: the CSV export of all 10,000 rows.

Last line: activity_p95_ms=.. chart_p95_ms=.. (goals ≤ 300 ms each on the local host), then the others.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realpath import percentile  # noqa: E402
from local.azurite import start_azurite  # noqa: E402
from tests.browser.portal_stack import running_portal  # noqa: E402
from tests.integration.form_client import FormClient  # noqa: E402

PASSWORD = "correct horse 42 battery"
OUTCOMES = (
    ("pushed",) * 70
    + ("updated",) * 15
    + ("unchanged",) * 8
    + ("skipped",) * 3
    + ("failed",) * 3
    + ("waiting",)
)
FAILURE = "Xero says: account code 260 is archived — fix: choose another account under Defaults"


def seed(table: object, connection_id: str, invoices: int, days: int, now: datetime) -> None:
    """Rows as ActivityLog.record writes them, 100 to a batch (one partition: one transaction each)."""
    rng = random.Random(19)
    rows = []
    for n in range(invoices):
        at = now - timedelta(seconds=rng.uniform(0, days * 86400 - 1))
        outcome = rng.choice(OUTCOMES)
        rows.append(
            {
                "PartitionKey": connection_id,
                "RowKey": f"{at:%Y-%m-%d}|{uuid.uuid4()}",
                "invoice_number": f"INV-{n:05d}",
                "outcome": outcome,
                "message": FAILURE if outcome == "failed" else "",
                "at": at,
                "latency_ms": int(rng.lognormvariate(7.3, 0.5)) if outcome in ("pushed", "updated") else -1,
                "xero_invoice_id": str(uuid.uuid4()) if outcome != "failed" else "",
                "short_code": "!Ab1Cd",
                "xero_minute_left": rng.randrange(0, 60),
                "xero_day_left": rng.randrange(2000, 5000),
            }
        )
    for start in range(0, len(rows), 100):
        table.submit_transaction([("upsert", row) for row in rows[start : start + 100]])  # type: ignore[attr-defined]


def timed(call: object, count: int) -> list[float]:
    spent = []
    for _ in range(count):
        began = time.perf_counter()
        call()  # type: ignore[operator]
        spent.append((time.perf_counter() - began) * 1000)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    azurite = start_azurite(log_path=work / "azurite.log")
    try:
        with running_portal(azurite, work) as portal:
            from shared import bootstrap
            from shared.accounts.passwords import hash_password
            from shared.connections.connections import create_connection
            from shared.store.accounts import AccountStore
            from shared.store.models import utc_now
            from shared.web.activity_charts import charts_for

            app = bootstrap.worker()
            email = f"bench.{uuid.uuid4().hex[:8]}@example.com"
            account = AccountStore.from_settings(app.settings).create(
                email, hash_password(PASSWORD), "Ana", "Kiwi Ltd", "trial", utc_now() + timedelta(days=14)
            )
            connection = create_connection(app.connections(), account.id, "Kiwi NZ", "trial", utc_now)
            log = app.activity()
            began = time.perf_counter()
            seed(log.table, connection.id, args.invoices, args.days, datetime.now(UTC))
            seed_s = time.perf_counter() - began

            browser = FormClient(portal.url, get_timeout=60, post_timeout=60)
            browser.get("/signin")
            assert browser.post("/signin", {"email": email, "password": PASSWORD}).status_code == 303
            page = f"/connections/{connection.id}/activity"

            def view(path: str = page) -> None:
                answer = browser.get(path)
                assert answer.status_code == 200, answer.status_code

            cold = timed(view, 1)[0]
            pages = timed(view, args.requests)
            failed = timed(lambda: view(page + "?outcome=failed"), max(5, args.requests // 4))
            charts = timed(lambda: charts_for(log, connection.id, datetime.now(UTC)), args.requests)
            began = time.perf_counter()
            export = browser.get(f"/connections/{connection.id}/activity.csv")
            csv_ms = (time.perf_counter() - began) * 1000
            exported = export.content.count(b"\n") - 1
    finally:
        azurite.stop()
    print(
        f"invoices={args.invoices} days={args.days} seed_s={seed_s:.1f} activity_cold_ms={cold:.0f} "
        f"failed_p95_ms={percentile(failed, 0.95):.0f} csv_ms={csv_ms:.0f} csv_rows={exported}"
    )
    print(f"activity_p95_ms={percentile(pages, 0.95):.0f} chart_p95_ms={percentile(charts, 0.95):.0f}")


if __name__ == "__main__":
    main()
