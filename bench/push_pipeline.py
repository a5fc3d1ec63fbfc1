"""The invoice push on its real path — Dynamics webhook → local Functions host (its own process) →
Azurite queue → worker → sandbox Xero, result written back to the sandbox Dataverse — with 50 ms added
to every call of both sandboxes. 200 invoices for 20 customers and 30 products, 3 lines each, then the
same 200 updated. Calls are counted by the sandboxes; the users' own calls are taken out.

Last line: invoices=200 xero_calls_per_invoice=X first_pass_xero_calls_per_invoice=F
dataverse_calls_per_invoice=D p50_ms=.. p95_ms=.. duplicates=N lost=M
Goals: X = 1.0, F <= 1.3, D <= 2.0, p95 (webhook arrival -> Xero write) <= 2000 ms, N = 0, M = 0."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from local.dynamics_user import DynamicsUser  # noqa: E402
from local.ports import free_port, wait_for_port  # noqa: E402
from local.stack import LocalStack  # noqa: E402

LATENCY_MS = 50
CUSTOMERS, PRODUCTS, LINES = 20, 30, 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--workers", type=int, default=8, help="users saving invoices at the same time")
    args = parser.parse_args()
    stack = LocalStack(prefix="bench" + uuid.uuid4().hex[:6]).start(with_host=False)
    host: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        os.environ["PUBLIC_BASE_URL"] = stack.env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
        stack.forget_process_state()
        connection = stack.onboard()
        host = _start_host(port, stack.work_dir / "host.log")
        user = DynamicsUser(stack.dataverse)
        run = Bench(stack, user, connection.xero.tenant_id, args.workers)
        run.prepare()
        first = run.first_pass(args.invoices)
        second = run.update_pass()
        report(args.invoices, first, second, run)
    finally:
        if host is not None:
            host.terminate()
            host.wait(timeout=60)
        stack.stop()


def _start_host(port: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "local.host", "--port", str(port)],
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, timeout=60)
    return process


class Bench:
    def __init__(self, stack: LocalStack, user: DynamicsUser, tenant: str, workers: int) -> None:
        self.stack, self.user, self.tenant, self.workers = stack, user, tenant, workers
        self.xero_url, self.dv_url = stack.xero.url, stack.dataverse.url
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = str(stack.dataverse.ca_path)
        self.latencies: list[float] = []

    def prepare(self) -> None:
        tag = uuid.uuid4().hex[:4].upper()
        self.customers = [
            self._create("accounts", {"name": f"Bench customer {n} {tag}", "accountnumber": f"B{tag}{n:03d}"})
            for n in range(CUSTOMERS)
        ]
        self.products = [
            self._create(
                "products", {"name": f"Bench product {n}", "productnumber": f"BP-{tag}-{n:03d}", "price": n}
            )
            for n in range(PRODUCTS)
        ]
        self.currency = self.user.first_id("transactioncurrencies", "isocurrencycode eq 'USD'")
        requests.put(f"{self.xero_url}/_sandbox/limits", json={"enabled": False}, timeout=10)
        for url in (self.xero_url, self.dv_url):
            self.session.put(f"{url}/_sandbox/faults", json={"latency_ms": LATENCY_MS}, timeout=10)

    def _create(self, entity_set: str, values: dict[str, Any]) -> str:
        response = self.user.session.post(self.user.base + entity_set, json=values, timeout=30)
        response.raise_for_status()
        return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")

    # -- passes -----------------------------------------------------------------------------------------
    def first_pass(self, count: int) -> dict[str, float]:
        self._reset_counts()
        started = time.time()
        rng = random.Random(7)

        def create(n: int) -> str:
            lines = [{"product": rng.choice(self.products), "quantity": 1 + n % 5} for _ in range(LINES)]
            return self._create(
                "invoices",
                _invoice_body(f"Bench invoice {n}", self.customers[n % CUSTOMERS], self.currency, lines),
            )

        with ThreadPoolExecutor(self.workers) as pool:
            self.invoices = list(pool.map(create, range(count)))
        self._wait(lambda row: bool(row.get("dxc_xeroinvoiceid") or row.get("dxc_syncerror")))
        self.first_rows = self._rows()
        self._latencies("Create", started)
        return self._counts(user_calls=count)

    def update_pass(self) -> dict[str, float]:
        self._reset_counts()
        before = {i: self.first_rows[i].get("dxc_syncdigest") for i in self.invoices}
        started = time.time()

        def update(invoice: str) -> None:
            response = self.user.session.patch(
                f"{self.user.base}invoices({invoice})", json={"name": f"Updated {invoice[:8]}"}, timeout=30
            )
            response.raise_for_status()

        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(update, self.invoices))
        self._wait(
            lambda row: (
                row.get("dxc_syncdigest") != before.get(row["invoiceid"]) or bool(row.get("dxc_syncerror"))
            )
        )
        self._latencies("Update", started)
        return self._counts(user_calls=len(self.invoices))

    # -- measuring --------------------------------------------------------------------------------------
    def _rows(self) -> dict[str, dict[str, Any]]:
        rows = self.session.get(f"{self.dv_url}/_sandbox/rows/contoso/invoices", timeout=30).json()["value"]
        return {r["invoiceid"]: r for r in rows if r["invoiceid"] in set(self.invoices)}

    def _wait(self, done: Any, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self._rows()
            if len(rows) == len(self.invoices) and all(done(r) for r in rows.values()):
                time.sleep(1)  # let the stragglers' covered events finish before counting
                return
            time.sleep(0.5)

    def _reset_counts(self) -> None:
        for url in (self.xero_url, self.dv_url):
            self.session.post(f"{url}/_sandbox/requests/reset", timeout=10)

    def _counts(self, user_calls: int) -> dict[str, float]:
        xero = requests.get(f"{self.xero_url}/_sandbox/requests", timeout=10).json()
        dataverse = self.session.get(f"{self.dv_url}/_sandbox/requests", timeout=10).json()["requests"]
        xero_calls = sum(c["count"] for c in xero if c["path"].startswith("/api.xro/"))
        dv_calls = sum(c["count"] for c in dataverse if "/api/data/" in c["path"]) - user_calls
        if os.environ.get("BENCH_VERBOSE"):
            for c in [*xero, *dataverse]:
                print(f"  {c['method']:6} {c['path']:60} {c['count']}")
        n = len(self.invoices)
        return {
            "xero": xero_calls / n,
            "dataverse": dv_calls / n,
            "xero_total": xero_calls,
            "dv_total": dv_calls,
        }

    def _latencies(self, message: str, since: float) -> None:
        """Webhook arrival (the sandbox's delivery, answered 202) → the Xero invoice's last write."""
        deliveries = self.session.get(f"{self.dv_url}/_sandbox/deliveries", timeout=30).json()["deliveries"]
        arrived: dict[str, float] = {}
        for d in deliveries:
            if (
                d["entity"] == "invoice"
                and d["message"] == message
                and d["time"] >= since
                and d.get("status") == 202
            ):
                arrived.setdefault(d["primary_entity_id"], d["time"])
        xero = {
            i["InvoiceID"]: i
            for i in requests.get(f"{self.xero_url}/_sandbox/orgs/{self.tenant}/Invoices", timeout=30).json()
        }
        for invoice, row in self._rows().items():
            written = xero.get(row.get("dxc_xeroinvoiceid") or "")
            if invoice in arrived and written:
                self.latencies.append((_epoch(written["UpdatedDateUTC"]) - arrived[invoice]) * 1000)
                if os.environ.get("BENCH_VERBOSE"):
                    print(
                        f"  {message} {invoice[:8]} arrived {arrived[invoice]:.3f} "
                        f"written {written['UpdatedDateUTC']}"
                    )

    def outcome(self) -> tuple[int, int]:
        xero = requests.get(f"{self.xero_url}/_sandbox/orgs/{self.tenant}/Invoices", timeout=30).json()
        numbers = [
            i["InvoiceNumber"]
            for i in xero
            if str(i.get("Reference", "")).startswith(("Bench invoice", "Updated"))
        ]
        duplicates = len(numbers) - len(set(numbers))
        rows = self._rows()
        lost = sum(1 for i in self.invoices if not rows.get(i, {}).get("dxc_xeroinvoiceid"))
        return duplicates, lost


def _invoice_body(name: str, customer: str, currency: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "customerid_account@odata.bind": f"/accounts({customer})",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency})",
        "invoice_details": [
            {
                "productid@odata.bind": f"/products({line['product']})",
                "quantity": line["quantity"],
                "lineitemnumber": n,
            }
            for n, line in enumerate(lines, start=1)
        ],
    }


def _epoch(value: Any) -> float:
    text = str(value)
    if text.startswith("/Date("):
        return int(text[6:].split("+")[0].split("-")[0].rstrip(")/")) / 1000
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=UTC).timestamp()


def report(count: int, first: dict[str, float], second: dict[str, float], run: Bench) -> None:
    duplicates, lost = run.outcome()
    latencies = sorted(run.latencies)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan")
    print(f"first pass: xero calls {first['xero_total']:.0f}, dataverse calls {first['dv_total']:.0f}")
    print(f"update pass: xero calls {second['xero_total']:.0f}, dataverse calls {second['dv_total']:.0f}")
    print(f"latency samples: {len(latencies)}; max {max(latencies, default=0):.0f} ms")
    dataverse = max(first["dataverse"], second["dataverse"])
    print(
        f"invoices={count} xero_calls_per_invoice={second['xero']:.2f} "
        f"first_pass_xero_calls_per_invoice={first['xero']:.2f} dataverse_calls_per_invoice={dataverse:.2f} "
        f"p50_ms={p50:.0f} p95_ms={p95:.0f} duplicates={duplicates} lost={lost}"
    )


if __name__ == "__main__":
    main()
