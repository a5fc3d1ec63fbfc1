"""Soak: invoices through the real path — Dynamics webhook → the local host (its own process) → Azurite →
worker → sandbox Xero, result written back to the sandbox Dataverse — while Xero answers 10% of calls
with 5xx, 5% with 429 + Retry-After and loses 3% of write answers after committing them, Dataverse
answers 5% with 503, and the host is killed with SIGKILL once while it is busy, then restarted.
Then both sides are compared: the Dynamics rows against the Xero records.

The kill comes after the first half of the invoices has been delivered by Dynamics' webhooks and while
their pushes, retries and deferrals are under way; the second half is saved after the restart. (A
webhook that finds the host down is lost by Dynamics' own rules — it retries only 502/503/504 — so a
kill while Dynamics is still delivering measures Dynamics, not the connector.)

Last line: invoices=N in_xero=N duplicates=D lost=L written_back=W poison=P elapsed_s=S
Goals: in_xero = written_back = N, duplicates = lost = 0, poison = 0 (each one with its reason written
back otherwise)."""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realpath import (  # noqa: E402
    RealPath,
    Users,
    customers_and_products,
    invoice_body,
    wait_until,
)

CUSTOMERS, PRODUCTS, LINES = 20, 30, 3
XERO_FAULTS = {"error_rate": 0.10, "throttle_rate": 0.05, "throttle_retry_after": 1, "lost_rate": 0.03}
DATAVERSE_FAULTS = {"error_rate": 0.05}
POISON_MARK = "after several tries"
LEASE_SECONDS = 5  # a killed host's messages come back after this (the real host: up to 10 minutes)


@dataclass
class SoakResult:
    invoices: int
    in_xero: int
    duplicates: int
    lost: int
    written_back: int
    poison: int
    elapsed_s: float
    undelivered: int = 0  # of the lost: no webhook of theirs ever reached the host
    poison_reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"invoices={self.invoices} in_xero={self.in_xero} duplicates={self.duplicates} "
            f"lost={self.lost} written_back={self.written_back} poison={self.poison} "
            f"elapsed_s={self.elapsed_s:.0f} undelivered={self.undelivered}"
        )


def run_soak(
    invoices: int,
    host_json: Path | None = None,
    azurite: Any = None,
    timeout: float = 1800,
    workers: int = 8,
    seed: int = 11,
) -> SoakResult:
    host_env = {"LOCAL_HOST_QUEUE_LEASE_SECONDS": str(LEASE_SECONDS)}
    path = RealPath(prefix="soak", host_env=host_env, host_json=host_json, azurite=azurite).start()
    try:
        connection = path.onboard()
        path.start_host()
        soak = Soak(path, path.user(), connection.xero.tenant_id, workers, seed)
        soak.prepare()
        started = time.monotonic()
        soak.run(invoices, timeout)
        return soak.compare(time.monotonic() - started)
    finally:
        path.stop()


class Soak:
    def __init__(self, path: RealPath, users: Users, tenant: str, workers: int, seed: int) -> None:
        self.path, self.users, self.tenant, self.workers = path, users, tenant, workers
        self.rng = random.Random(seed)
        self.tag = f"Soak {seed}-{path.prefix[-6:]}"
        self.invoices: list[str] = []
        self.notes: list[str] = []

    def prepare(self) -> None:
        self.customers, self.products = customers_and_products(self.users, CUSTOMERS, PRODUCTS)
        self.currency = self.users.currency("USD")
        self.path.xero("PUT", "limits", {"enabled": False})  # faults are the point here, not the minute
        # The bench's Dynamics user is the connector's own application user: lift the per-user limit.
        self.path.dataverse("PUT", "limits", {"requests_per_window": 10_000_000})
        self.path.xero("PUT", "faults", {**XERO_FAULTS, "seed": self.rng.randrange(1 << 30)})
        self.path.dataverse("PUT", "faults", {**DATAVERSE_FAULTS, "seed": self.rng.randrange(1 << 30)})

    def run(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        first = count // 2
        self._create(range(first))
        self.path.wait_deliveries()
        wait_until(lambda: self._done_count() >= first // 4, 60, poll=0.2)  # busy, a quarter done
        done = self._done_count()
        self.path.kill_host()
        self.notes.append(f"killed the host with {done} of {first} delivered invoices written back")
        self.path.start_host()
        self._create(range(first, count))
        self.path.wait_deliveries()
        finished = wait_until(self._finished, max(1.0, deadline - time.monotonic()), poll=1.0)
        if not finished:
            self.notes.append("timed out waiting for the pushes to finish")

    def _create(self, numbers: range) -> None:
        def create(n: int) -> str:
            lines = [(self.rng.choice(self.products), 1 + n % 5) for _ in range(LINES)]
            name = f"{self.tag} invoice {n}"
            return self.users.create(
                "invoices", invoice_body(name, self.customers[n % CUSTOMERS], self.currency, lines)
            )

        with ThreadPoolExecutor(self.workers) as pool:
            self.invoices.extend(pool.map(create, numbers))

    def _done_count(self) -> int:
        return sum(1 for row in self.path.rows(self.invoices).values() if _final(row))

    def _finished(self) -> bool:
        rows = self.path.rows(self.invoices)
        if len(rows) < len(self.invoices):
            return False
        open_ = [i for i, r in rows.items() if not _final(r)]
        # An invoice none of whose webhooks reached the host is one the connector never heard of (Dynamics
        # retries only 502/503/504): waiting for it would wait for ever; it is counted as lost instead.
        if open_ and set(open_) - self._undelivered():
            return False
        return self.path.queue_depth() == 0  # no retry, deferral or poison message still to come

    def _undelivered(self) -> set[str]:
        """Invoices whose webhooks (the invoice's and its lines') all failed to reach the host."""
        lines = self.path.dataverse("GET", "rows/contoso/invoicedetails")["value"]
        invoice_of = {
            str(line["invoicedetailid"]): str((line.get("invoiceid") or {}).get("id", "")) for line in lines
        }
        reached = set()
        for delivery in self.path.deliveries():
            if delivery.get("status") == 202:
                row = str(delivery.get("primary_entity_id", ""))
                reached.add(invoice_of.get(row, row))
        return set(self.invoices) - reached

    # -- both sides -------------------------------------------------------------------------------------
    def compare(self, elapsed: float) -> SoakResult:
        rows = self.path.rows(self.invoices)
        ours = [
            i
            for i in self.path.xero_invoices(self.tenant)
            if str(i.get("Reference", "")).startswith(self.tag)
        ]
        live = [i for i in ours if i.get("Status") not in ("DELETED", "VOIDED")]
        by_number = Counter(str(i["InvoiceNumber"]) for i in live)
        ids_by_number = {str(i["InvoiceNumber"]): str(i["InvoiceID"]) for i in live}
        in_xero = written_back = poison = lost = 0
        reasons: list[str] = []
        for invoice in self.invoices:
            row = rows.get(invoice, {})
            number = str(row.get("invoicenumber") or "")
            error = str(row.get("dxc_syncerror") or "")
            in_xero += number in by_number
            if number in by_number and row.get("dxc_xeroinvoiceid") == ids_by_number[number] and not error:
                written_back += 1
            if POISON_MARK in error:
                poison += 1
                reasons.append(error)
            elif number not in by_number and not error:
                lost += 1
        undelivered = self._undelivered()
        if undelivered:
            self.notes.append(
                f"{len(undelivered)} invoices lost before the connector: every webhook of theirs failed to "
                "connect to the host (see the sandbox's deliveries)"
            )
        contacts = [
            c for c in self.path.xero("GET", f"orgs/{self.tenant}/Contacts") if "Bench customer" in c["Name"]
        ]
        self.notes.append(f"xero contacts for {CUSTOMERS} customers: {len(contacts)}")
        self.notes.append(
            f"rows with another error: {sum(1 for r in rows.values() if r.get('dxc_syncerror'))}"
        )
        return SoakResult(
            invoices=len(self.invoices),
            in_xero=in_xero,
            duplicates=sum(n - 1 for n in by_number.values()) + len(ours) - len(live),
            lost=lost,
            written_back=written_back,
            poison=poison,
            elapsed_s=elapsed,
            undelivered=len(undelivered & {i for i in self.invoices if not _final(rows.get(i, {}))}),
            poison_reasons=reasons,
            notes=self.notes,
        )


def _final(row: dict[str, Any]) -> bool:
    return bool(row.get("dxc_xeroinvoiceid") or row.get("dxc_syncerror"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before giving up waiting")
    parser.add_argument("--host-json", type=Path, default=None, help="default: the product's host.json")
    args = parser.parse_args()
    result = run_soak(args.invoices, host_json=args.host_json, timeout=args.timeout)
    for note in result.notes:
        print(note)
    for reason in result.poison_reasons:
        print(f"poison: {reason[:200]}")
    print(result.line())


if __name__ == "__main__":
    main()
