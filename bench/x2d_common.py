"""What the Xero -> Dynamics benchmarks share: the real path with the sandbox Xero's webhooks subscribed
to the host process, invoices pushed to Xero as approved ones, and a quiet wait."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.realpath import RealPath, Users, customers_and_products, invoice_body, wait_until

XERO_ID, STATUS, PAID, DUE = "dxc_xeroinvoiceid", "dxc_xerostatus", "dxc_xeroamountpaid", "dxc_xeroamountdue"
UPDATED_AT = "dxc_xeroupdatedat"


def start(prefix: str) -> tuple[RealPath, Any]:
    from shared.store.sync_settings import InvoiceStatus

    path = RealPath(prefix=prefix).start()
    connection = path.onboard(invoice_status=InvoiceStatus.AUTHORISED)
    path.start_host()
    key = path.stack.env["XERO_WEBHOOK_KEY"]
    path.xero("PUT", "webhooks", {"url": f"http://127.0.0.1:{path.port}/api/xero/webhook", "key": key})
    path.xero("PUT", "limits", {"enabled": False})  # calls are counted, not paced, here
    path.dataverse("PUT", "limits", {"requests_per_window": 10_000_000})
    return path, connection


def push_invoices(path: RealPath, users: Users, count: int, workers: int = 8) -> list[str]:
    """`count` approved invoices saved in Dynamics, pushed, and Xero's answer (amounts) written back."""
    customers, products = customers_and_products(users, 10, 5)
    currency = users.currency("USD")

    def create(n: int) -> str:
        body = invoice_body(
            f"X2D invoice {n}",
            customers[n % 10],
            currency,
            [(products[n % 5], 1 + n % 3)],
            duedate="2030-01-31",
        )
        return users.create("invoices", body)

    with ThreadPoolExecutor(workers) as pool:
        invoices = list(pool.map(create, range(count)))
    if not wait_until(lambda: all(r.get(XERO_ID) for r in path.rows(invoices).values()), 900, 1.0):
        raise SystemExit("the invoices did not all reach Xero")
    back = lambda: all(r.get(UPDATED_AT) for r in path.rows(invoices).values())  # noqa: E731
    if not wait_until(back, 30, 1.0):
        # Xero's webhook of some creates was lost (a loaded host answered too late): the sweep heals it
        from shared import bootstrap
        from shared.xero_inbound.sweep import sweep_all

        sweep_all(bootstrap.worker().sweeper())
        if not wait_until(back, 300, 1.0):
            raise SystemExit("Xero's answers did not all come back to Dynamics")
    quiet(path)
    return invoices


def quiet(path: RealPath, seconds: float = 3.0) -> None:
    path.wait_deliveries()
    time.sleep(seconds)


def counts(path: RealPath) -> tuple[int, int]:
    """(Xero Accounting API calls, Dataverse Web API calls) since the last reset; control calls excluded."""
    xero = path.xero("GET", "requests")
    dataverse = path.dataverse("GET", "requests")["requests"]
    return (
        sum(c["count"] for c in xero if c["path"].startswith("/api.xro/")),
        sum(c["count"] for c in dataverse if "/api/data/" in c["path"]),
    )
