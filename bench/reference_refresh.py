"""Reference-data refresh on a realistic organisation (≈ 40 tax rates, 120 accounts, 5 branding themes,
2 tracking categories, 5 currencies): a first refresh, one with nothing changed in Xero, and one after a
single account was renamed in Xero. Dynamics writes and Xero calls are what the sandboxes counted.

Run from the project root: .venv/bin/python bench/reference_refresh.py
Last line: first_refresh_writes=N unchanged_refresh_writes=U one_change_writes=C xero_calls_per_refresh=X
(goals: U = 0, C = 1, X <= 5)"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.stack import LocalStack  # noqa: E402  (needs the project root on sys.path)

ORGANISATION = "Realistic Trading Ltd"
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class Counts:
    xero: Counter[tuple[str, str]]
    dynamics: Counter[tuple[str, str]]

    def __sub__(self, other: Counts) -> Counts:
        return Counts(self.xero - other.xero, self.dynamics - other.dynamics)

    @property
    def xero_calls(self) -> int:
        return sum(self.xero.values())

    @property
    def dynamics_writes(self) -> int:
        return sum(n for (method, path), n in self.dynamics.items() if method in WRITES and _is_api(path))

    @property
    def dynamics_reads(self) -> int:
        return sum(n for (method, path), n in self.dynamics.items() if method == "GET" and _is_api(path))


def _is_api(path: str) -> bool:
    return path.startswith("/api/data/")


class Sandboxes:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.dataverse = requests.Session()
        self.dataverse.trust_env = False
        self.dataverse.verify = str(stack.dataverse.ca_path)

    def counts(self) -> Counts:
        xero = requests.get(f"{self.stack.xero.url}/_sandbox/requests", timeout=10).json()
        dynamics = self.dataverse.get(f"{self.stack.dataverse.url}/_sandbox/requests", timeout=10).json()
        return Counts(_counter(xero), _counter(dynamics["requests"]))

    def xero_records(self, tenant_id: str, collection: str) -> list[dict[str, Any]]:
        url = f"{self.stack.xero.url}/_sandbox/orgs/{tenant_id}/{collection}"
        return list(requests.get(url, timeout=10).json())

    def rename_in_xero(self, tenant_id: str, account_id: str, name: str) -> None:
        url = f"{self.stack.xero.url}/_sandbox/orgs/{tenant_id}/Accounts/{account_id}"
        requests.patch(url, json={"Name": name}, timeout=10).raise_for_status()


def _counter(rows: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    counted: Counter[tuple[str, str]] = Counter()
    for row in rows:
        counted[(row["method"], row["path"])] += int(row["count"])
    return counted


def measured_refresh(label: str, sandboxes: Sandboxes, connection_id: str) -> Counts:
    """One refresh as the queue function runs it, with what it cost on both sides."""
    from shared import bootstrap
    from shared.reference.worker import handle_refresh_message, refresh_message

    before = sandboxes.counts()
    started = time.perf_counter()
    outcome = handle_refresh_message(
        refresh_message(connection_id), f"bench-{label}", bootstrap.worker().reference_worker()
    )
    elapsed = time.perf_counter() - started
    spent = sandboxes.counts() - before
    if outcome != "refreshed":
        raise SystemExit(f"{label}: the refresh ended {outcome!r}")
    print(
        f"{label}: {elapsed * 1000:.0f} ms, Dynamics writes={spent.dynamics_writes} "
        f"reads={spent.dynamics_reads}, Xero calls={spent.xero_calls}"
    )
    for (method, path), n in sorted(spent.xero.items()):
        print(f"    xero     {method:6} {path} x{n}")
    for (method, path), n in sorted(spent.dynamics.items()):
        print(f"    dynamics {method:6} {path} x{n}")
    return spent


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    stack = LocalStack(prefix="bench" + uuid.uuid4().hex[:8], xero_seed="realistic").start(with_host=False)
    try:
        from shared import bootstrap

        sandboxes = Sandboxes(stack)
        connection = stack.onboard("bench-account", ORGANISATION)
        tenant_id = connection.xero.tenant_id
        sizes = {c: len(sandboxes.xero_records(tenant_id, c)) for c in ("TaxRates", "Accounts",
                 "BrandingThemes", "TrackingCategories", "Currencies")}  # fmt: skip
        print(f"organisation {ORGANISATION!r}: {sizes}")

        first = measured_refresh("first refresh", sandboxes, connection.id)
        unchanged = measured_refresh("unchanged refresh", sandboxes, connection.id)
        account = next(a for a in sandboxes.xero_records(tenant_id, "Accounts") if a["Code"] == "200")
        sandboxes.rename_in_xero(tenant_id, account["AccountID"], "Sales (renamed)")
        one_change = measured_refresh("one account renamed", sandboxes, connection.id)

        recorded = bootstrap.worker().connections().require(connection.id).reference
        print(f"connection records: last_refresh_at={recorded.last_refresh_at} counts={recorded.counts}")
        xero_calls = max(r.xero_calls for r in (first, unchanged, one_change))
        print(
            f"first_refresh_writes={first.dynamics_writes} "
            f"unchanged_refresh_writes={unchanged.dynamics_writes} "
            f"one_change_writes={one_change.dynamics_writes} xero_calls_per_refresh={xero_calls}"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
