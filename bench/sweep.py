"""The sweep heals what lost webhooks leave out of step, on its real path: `--invoices` approved invoices
pushed to the sandbox Xero, then half of them renamed in Dynamics while the sandbox Dataverse drops
`--drop` of its webhook deliveries, and the other half paid in Xero while the sandbox Xero drops `--drop`
of its webhooks (two halves: Xero refuses edits of a paid invoice, so a rename of one could not be
healed). The gaps are counted on both sides (Xero's Reference still the old name; Dynamics not yet
showing PAID), one sweep runs (the timer's service, in this process), and the gaps are counted again once
its messages are worked off. Then a sweep with nothing to find, its calls counted by the sandboxes.

Last line: healed=N missed=0 idle_sweep_calls=C dynamics_gaps=.. xero_gaps=.. sweep_ms=..
Goals: missed = 0; an idle sweep <= 2 calls per connection."""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realpath import wait_until  # noqa: E402
from bench.x2d_common import STATUS, XERO_ID, counts, push_invoices, quiet, start  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--drop", type=float, default=0.05, help="share of webhooks lost on each side")
    args = parser.parse_args()
    path, connection = start("sweep")
    try:
        from shared import bootstrap
        from shared.xero_inbound.sweep import sweep_all

        users, tenant = path.user(), connection.xero.tenant_id
        invoices = push_invoices(path, users, args.invoices)
        xero_ids = {i: r[XERO_ID] for i, r in path.rows(invoices).items()}
        sweep_all(bootstrap.worker().sweeper())  # the first sweep: its marks, nothing to heal yet
        quiet(path)

        renamed, paid = invoices[::2], invoices[1::2]
        # Dynamics loses some of the renames' webhooks
        path.dataverse("PUT", "limits", {"webhook_drop_rate": args.drop})
        try:
            with ThreadPoolExecutor(8) as pool:
                list(
                    pool.map(
                        lambda i: users.call("PATCH", f"invoices({i})", {"name": f"Renamed {i[:8]}"}),
                        renamed,
                    )
                )
            path.wait_deliveries()
        finally:
            path.dataverse("PUT", "limits", {"webhook_drop_rate": 0.0})
        _settle(path, lambda: _dynamics_gaps(path, tenant, renamed, xero_ids))

        # Xero loses some of the payments' webhooks
        path.xero("PUT", "webhooks", {"drop_rate": args.drop})
        try:
            with ThreadPoolExecutor(8) as pool:
                list(
                    pool.map(
                        lambda i: path.xero("POST", f"orgs/{tenant}/Invoices/{xero_ids[i]}/pay", {}), paid
                    )
                )
        finally:
            path.xero("PUT", "webhooks", {"drop_rate": 0.0})
        _settle(path, lambda: _xero_gaps(path, paid))
        dynamics_gaps = _dynamics_gaps(path, tenant, renamed, xero_ids)
        xero_gaps = _xero_gaps(path, paid)
        before = len(dynamics_gaps) + len(xero_gaps)

        started = time.monotonic()
        results = sweep_all(bootstrap.worker().sweeper())
        if os.environ.get("BENCH_VERBOSE"):
            print(results, dynamics_gaps[:3])
        sweep_ms = (time.monotonic() - started) * 1000
        wait_until(
            lambda: not _dynamics_gaps(path, tenant, renamed, xero_ids) and not _xero_gaps(path, paid),
            300,
            1.0,
        )
        if os.environ.get("BENCH_VERBOSE"):
            for gap in _dynamics_gaps(path, tenant, renamed, xero_ids)[:3]:
                row = path.rows([gap])[gap]
                print({k: v for k, v in row.items() if k.startswith(("dxc_", "modifiedon", "name"))})
        missed = len(_dynamics_gaps(path, tenant, renamed, xero_ids)) + len(_xero_gaps(path, paid))
        quiet(path)

        path.reset_counts()
        sweep_all(bootstrap.worker().sweeper())
        xero_calls, dataverse_calls = counts(path)
        print(
            f"healed={before - missed} missed={missed} idle_sweep_calls={xero_calls + dataverse_calls} "
            f"dynamics_gaps={len(dynamics_gaps)} xero_gaps={len(xero_gaps)} sweep_ms={sweep_ms:.0f}"
        )
    finally:
        path.stop()


def _dynamics_gaps(path: Any, tenant: str, invoices: list[str], xero_ids: dict[str, str]) -> list[str]:
    """Renamed in Dynamics, still under the old name in Xero."""
    by_id = {i["InvoiceID"]: i for i in path.xero_invoices(tenant)}
    return [i for i in invoices if by_id[xero_ids[i]].get("Reference") != f"Renamed {i[:8]}"]


def _xero_gaps(path: Any, invoices: list[str]) -> list[str]:
    """Paid in Xero, not shown paid in Dynamics."""
    return [i for i, row in path.rows(invoices).items() if row.get(STATUS) != "PAID"]


def _settle(path: Any, gaps: Any, still: float = 5.0, timeout: float = 300.0) -> None:
    """Until the gap count stops moving for `still` seconds: what the webhooks could heal is healed."""
    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(gaps())
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= still:
            return
        time.sleep(1.0)


if __name__ == "__main__":
    main()
