"""Xero -> Dynamics on its real path: payments, part payments and voids made in the sandbox Xero (its
control API, as a person working in Xero would) → Xero's signed webhook → the host process → Azurite
queue → worker (one GET Invoices?IDs= per organisation batch) → one Dataverse $batch. Events come in
bursts of `--burst`, as Xero batches its webhooks.

Latency: from the moment the change is made in Xero (the sandbox then sends its webhook within its 0.1 s
batching window) to the moment Dynamics shows it (polled through the sandbox's uncounted control API every
100 ms). Calls are counted by the sandboxes; the bench's own changes go through the uncounted control API.

Last line: events=N p95_ms=.. xero_calls_per_event=.. dataverse_calls_per_event=.. lost=0
Goals: p95 <= 2000 ms; <= 1 Xero call and <= 1 Dataverse call per event on average in bursts; lost = 0."""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realpath import percentile  # noqa: E402
from bench.x2d_common import DUE, PAID, STATUS, XERO_ID, counts, push_invoices, quiet, start  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--burst", type=int, default=25, help="changes made in Xero at once")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    path, connection = start("x2d")
    try:
        tenant = connection.xero.tenant_id
        invoices = push_invoices(path, path.user(), args.invoices)
        rows = path.rows(invoices)
        xero_ids = {i: rows[i][XERO_ID] for i in invoices}
        path.reset_counts()
        expected: dict[str, Any] = {}
        made_at: dict[str, float] = {}
        seen_at: dict[str, float] = {}

        def change(pair: tuple[int, str]) -> None:
            n, invoice = pair
            xero_id = xero_ids[invoice]
            if n % 10 < 4:  # paid in full
                path.xero("POST", f"orgs/{tenant}/Invoices/{xero_id}/pay", {})
                expected[invoice] = lambda r: r.get(STATUS) == "PAID" and Decimal(str(r.get(DUE))) == 0
            elif n % 10 < 7:  # part-paid
                path.xero("POST", f"orgs/{tenant}/Invoices/{xero_id}/pay", {"amount": 1})
                expected[invoice] = lambda r: Decimal(str(r.get(PAID) or 0)) == 1
            else:  # voided
                path.xero("PATCH", f"orgs/{tenant}/Invoices/{xero_id}", {"Status": "VOIDED"})
                expected[invoice] = lambda r: r.get(STATUS) == "VOIDED"
            made_at[invoice] = time.time()

        with ThreadPoolExecutor(8) as pool:
            for at in range(0, len(invoices), args.burst):
                burst = list(enumerate(invoices))[at : at + args.burst]
                list(pool.map(change, burst))
                _watch(path, expected, seen_at, deadline=time.monotonic() + 2.0)
        _watch(path, expected, seen_at, deadline=time.monotonic() + args.timeout)
        quiet(path, 2.0)
        xero_calls, dataverse_calls = counts(path)
        latencies = [(seen_at[i] - made_at[i]) * 1000 for i in seen_at if i in made_at]
        events = len(made_at)
        lost = events - len(seen_at)
        print(
            f"events={events} p95_ms={percentile(latencies, 0.95):.0f} "
            f"xero_calls_per_event={xero_calls / events:.2f} "
            f"dataverse_calls_per_event={dataverse_calls / events:.2f} lost={lost}"
        )
    finally:
        path.stop()


def _watch(path: Any, expected: dict[str, Any], seen_at: dict[str, float], deadline: float) -> None:
    """Poll Dynamics (uncounted) until every changed invoice shows its change, or the deadline passes."""
    while time.monotonic() < deadline:
        now = time.time()
        for invoice, row in path.rows([i for i in expected if i not in seen_at]).items():
            if expected[invoice](row):
                seen_at[invoice] = now
        if all(i in seen_at for i in expected):
            return
        time.sleep(0.1)


if __name__ == "__main__":
    main()
