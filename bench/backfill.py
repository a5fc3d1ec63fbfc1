"""The backfill on its real path: `--invoices` older invoices seeded in the sandbox Dynamics (a long-used
business: local/sandbox/dataverse/history.py), the sandbox Xero seeded with years of its own history
("established": numbers that clash, contacts that exist), Xero's limits on with a fast clock
(`--time-scale`; the host's XERO_MINUTE_SECONDS set to match, as bench/burst.py does). The backfill is
started as the portal starts it; the local host (its own process) works the pages off its queue. A
first backfill of the oldest tenth of the range makes the customers and products Xero contacts and
items; then the whole range is backfilled (those already sent are matched, at no call), and half-way
the host is killed (SIGKILL) and started again; once done, the backfill is run a second time over the
same range. Meanwhile a live invoice is saved now and then, and its time to Xero measured against the
same pushes with no backfill running.

Counted by the sandboxes: Xero Accounting API calls of each run (the second run's are the cost once
contacts and items exist), duplicates (Xero invoices naming the same Dynamics invoice in their Url, or
two with one number), lost invoices (in range, open, with neither a Xero id nor a reason written back).
`minutes` is the killed run's real length (with the kill and the wait for the dead host's lease); the
backfill is bound by Dynamics' reads and writes, not by Xero: `xero_limit_minutes` is how long its Xero
calls alone would take at the 56 calls a minute its class may use (shared/xero/budget.py), and
`ceiling_use` its calls per Xero minute over 60.

Last line: invoices=N xero_calls_per_invoice=.. duplicates=0 lost=0 minutes=.. xero_limit_minutes=..
second_run_calls_per_invoice=.. ceiling_use=.. live_p95_ms=.. live_idle_p95_ms=..
Goals: <= 0.05 Xero calls per invoice once contacts and items exist, 0 duplicates when run twice or
killed half-way, no live push waiting more than its usual p95."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realpath import RealPath, Users, invoice_body, percentile, wait_until  # noqa: E402

XERO_ID, ERROR = "dxc_xeroinvoiceid", "dxc_syncerror"
UNTIL = date(2025, 6, 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=5000)
    parser.add_argument("--time-scale", type=float, default=1.0, help="sandbox Xero's clock speed")
    parser.add_argument("--live", type=int, default=20, help="live invoices saved during the backfill")
    args = parser.parse_args()
    minute = 60.0 / args.time_scale
    path = RealPath(
        prefix="backfill",
        xero_seed="established",
        host_env={
            "XERO_MINUTE_SECONDS": f"{minute:.4f}",
            "LOCAL_HOST_QUEUE_LEASE_SECONDS": "10",  # a killed host's messages come back after 10 s
            "HTTP_TIMEOUT_SECONDS": "5",  # and its page's lease ends after 6 x 5 s
        },
    ).start()
    try:
        from shared.store.sync_settings import InvoiceStatus

        connection = path.onboard(invoice_status=InvoiceStatus.AUTHORISED, default_due_days=30)
        path.xero(
            "PUT", "limits", {"enabled": True, "minute": 60, "concurrent": 5, "time_scale": args.time_scale}
        )
        path.dataverse("PUT", "limits", {"requests_per_window": 10_000_000})
        started = time.monotonic()
        ids = path.dataverse(
            "POST",
            "history",
            {"environment": "contoso", "invoices": args.invoices, "until": UNTIL.isoformat()},
        )["invoices"]
        print(f"seeded {len(ids)} invoices in {time.monotonic() - started:.0f} s", file=sys.stderr)
        path.start_host()
        users = path.user()
        live = Live(path, users)
        idle = live.measure(max(5, args.live // 2), interval=0.5)

        # the oldest months first: the customers and products become Xero contacts and items
        days = max(args.invoices // 2, 30)  # the span history.py spreads the invoices over
        _start(path, connection, UNTIL - timedelta(days=days + 1), UNTIL - timedelta(days=days * 9 // 10))
        warm_up = _finish(connection)
        # the whole range, killed half-way
        path.reset_counts()
        run_started = time.monotonic()
        job = _start(path, connection)
        measuring = threading.Thread(target=lambda: live.during(args.live, 1.0), daemon=True)
        measuring.start()
        if not wait_until(lambda: _job(connection).done >= job.total // 2, 1800, 0.5):
            raise SystemExit(f"the backfill did not get half-way: {_job(connection)}")
        path.kill_host()
        print(f"killed the host at {_job(connection).done} of {job.total}", file=sys.stderr)
        path.start_host()
        finished = _finish(connection)
        first_seconds = time.monotonic() - run_started
        first_calls = _xero_calls(path)
        measuring.join(timeout=300)

        # second run over the same range: everything is in Xero or failed with a reason
        path.reset_counts()
        _start(path, connection)
        again = _finish(connection)
        second_calls = _xero_calls(path)

        rows = [r for r in path.rows(ids).values() if r["statecode"] == 0]
        duplicates = _duplicates(path, connection.xero.tenant_id, rows)
        lost = sum(1 for r in rows if not r.get(XERO_ID) and not r.get(ERROR))
        xero_minutes = first_seconds * args.time_scale / 60  # the run's length on Xero's (sandbox) clock
        print(
            f"warm-up: {warm_up}; run: {finished}; second run: {again}; run {first_seconds:.0f} s real",
            file=sys.stderr,
        )
        print(
            f"invoices={len(rows)} xero_calls_per_invoice={first_calls / max(1, len(rows)):.4f} "
            f"duplicates={duplicates} lost={lost} minutes={first_seconds / 60:.1f} "
            f"xero_limit_minutes={first_calls / 56:.1f} "
            f"second_run_calls_per_invoice={second_calls / max(1, len(rows)):.4f} "
            f"ceiling_use={first_calls / (60 * max(xero_minutes, 1e-9)):.2f} "
            f"live_p95_ms={percentile(live.waits, 0.95):.0f} live_idle_p95_ms={percentile(idle, 0.95):.0f}"
        )
    finally:
        path.stop()


def _start(
    path: RealPath, connection: Any, first: date = UNTIL - timedelta(days=20 * 365), last: date = UNTIL
) -> Any:
    from shared import bootstrap
    from shared.backfill import control
    from shared.backfill.query import OPEN_STATUS_REASONS, Selection

    app = bootstrap.worker()
    selection = Selection(first, last, tuple(c for c, _ in OPEN_STATUS_REASONS))
    found = control.estimate(app.dataverse_for(connection), selection)
    print(f"estimate: {found}", file=sys.stderr)
    return control.start(app.backfills(), connection, selection, found.invoices, app.send_backfill, _now())


def _finish(connection: Any) -> Any:
    if not wait_until(lambda: _job(connection).status != "running", 3600, 1.0):
        raise SystemExit(f"the backfill did not finish: {_job(connection)}")
    job = _job(connection)
    return {k: getattr(job, k) for k in ("status", "total", "created", "matched", "failed", "skipped")}


def _job(connection: Any) -> Any:
    from shared import bootstrap

    return bootstrap.worker().backfills().get(connection.id)


def _xero_calls(path: RealPath) -> int:
    return sum(c["count"] for c in path.xero("GET", "requests") if c["path"].startswith("/api.xro/"))


def _duplicates(path: RealPath, tenant: str, rows: list[dict[str, Any]]) -> int:
    """Xero invoices beyond the first that name one Dynamics invoice, or share one of its numbers."""
    wanted = {r["invoiceid"].lower() for r in rows}
    numbers = {r["invoicenumber"] for r in rows}
    by_url: Counter[str] = Counter()
    by_number: Counter[str] = Counter()
    for invoice in path.xero_invoices(tenant):
        url = str(invoice.get("Url") or "").lower()
        if "id=" in url and url.rsplit("id=", 1)[1] in wanted:
            by_url[url.rsplit("id=", 1)[1]] += 1
        if invoice.get("InvoiceNumber") in numbers and invoice.get("Status") not in ("DELETED", "VOIDED"):
            by_number[invoice["InvoiceNumber"]] += 1
    return sum(n - 1 for n in by_url.values()) + sum(n - 1 for n in by_number.values())


class Live:
    """Invoices saved in Dynamics now, and how long each takes to show its Xero number."""

    def __init__(self, path: RealPath, users: Users) -> None:
        self.path, self.users = path, users
        self.waits: list[float] = []
        self.customer = users.create("accounts", {"name": "Live customer", "accountnumber": "LIVE-001"})
        self.currency = users.currency("USD")

    def measure(self, count: int, interval: float) -> list[float]:
        waits: list[float] = []
        for n in range(count):
            waits.append(self._one(n))
            time.sleep(interval)
        return waits

    def during(self, count: int, interval: float) -> None:
        self.waits = self.measure(count, interval)

    def _one(self, n: int) -> float:
        body = invoice_body(f"Live {n}", self.customer, self.currency, [], duedate="2030-01-31")
        line = {"isproductoverridden": True, "productdescription": "Now", "priceperunit": 10, "quantity": 1}
        body["invoice_details"] = [{**line, "lineitemnumber": 1}]
        saved = time.monotonic()
        invoice = self.users.create("invoices", body)
        read = f"invoices({invoice})?$select={XERO_ID}"
        if not wait_until(lambda: bool(self.users.call("GET", read).json().get(XERO_ID)), 120, 0.05):
            return float("inf")
        return (time.monotonic() - saved) * 1000


def _now() -> Any:
    from shared.store.models import utc_now

    return utc_now()


if __name__ == "__main__":
    main()
