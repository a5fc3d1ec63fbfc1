"""Years of invoices, seeded into an environment on request (POST /_sandbox/history): what a customer's
Dynamics holds when they first connect and want the older invoices in Xero (the backfill, issue 15).

A long-used business, not a demo: dozens of customers (accounts and people, the demo ones among them),
products at odd prices (four decimal places, zero, a credit line), invoices over the years before `until`
in every open status reason and a few paid and cancelled ones, most with a due date and some without, a
few in a currency Xero's demo organisation lacks (EUR), and some numbered like invoices the Xero demo
organisation already holds for other contacts (INV-0003…: its history). Dates are set in the past as
Dynamics would have them (createdon, modifiedon), so nothing looks changed today and the sweep, which
looks at modified invoices, leaves them alone. Deterministic: the same call gives the same rows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .demo import demo_id
from .metadata_model import metadata_id
from .store import EnvironmentState, Ref
from .system_rows import put

CUSTOMERS = 40
FOREIGN_NUMBERS = [f"INV-{n:04d}" for n in range(3, 9)]  # in the Xero demo organisation's history
PRODUCTS = [  # (number, name, price): prices as a long-used price list has them
    ("HIST-BOLT-M6", "Bolt M6 (each)", 0.0375),
    ("HIST-PANEL-2", "Panel, 2 m", 149.995),
    ("HIST-LABOUR", "Labour hour", 87.5),
    ("HIST-FREEBIE", "Sample pack", 0.0),
    ("HIST-CABLE-25", "Cable 25 m", 31.4159),
    ("HIST-SERVICE", "Annual service", 1250.0),
]
STATUS_REASONS = (1, 1, 1, 2, 4, 4, 5, 6)


def seed_history(env: EnvironmentState, invoices: int, until: date, prefix: str = "H") -> list[str]:
    """`invoices` open invoices (plus a few paid and cancelled ones every 50), dated over the years before
    `until`; their ids, oldest first."""
    rng = random.Random(f"{env.organization_id}:{prefix}:{invoices}")
    made: list[str] = []
    with env.lock:
        usd = metadata_id("currency", env.organization_id, "USD")
        eur = demo_id(env, "EUR")
        prices = demo_id(env, "pricelist")
        unit = Ref(metadata_id("uom", env.organization_id, "Primary Unit"), "uom")
        customers = _customers(env, prefix, rng)
        products = [
            put(env, "product", demo_id(env, "history-product", number),
                {"productnumber": number, "name": name, "price": price, "defaultuomid": unit})["productid"]
            for number, name, price in PRODUCTS
        ]  # fmt: skip
        days = max(invoices // 2, 30)
        for n in range(invoices):
            issued = until - timedelta(days=days - (n * days) // max(invoices, 1))
            number = FOREIGN_NUMBERS[n // 40] if n % 40 == 7 and n // 40 < len(FOREIGN_NUMBERS) else ""
            currency = eur if n % 97 == 13 else usd
            made.append(_invoice(env, prefix, n, number or f"{prefix}-{n + 1:05d}", issued, rng,
                                 rng.choice(customers), currency, prices, products))  # fmt: skip
            if n % 50 == 25:  # paid and cancelled ones are in the history too, and not backfilled
                for state, status in ((2, 100001), (3, 100003)):
                    extra = _invoice(env, prefix, n, f"{prefix}-{n + 1:05d}-{state}", issued, rng,
                                     rng.choice(customers), usd, prices, products)  # fmt: skip
                    env.get("invoice", extra).update({"statecode": state, "statuscode": status})  # type: ignore[union-attr]
    return made


def _customers(env: EnvironmentState, prefix: str, rng: random.Random) -> list[Ref]:
    found = [Ref(r["accountid"], "account") for r in env.all_rows("account") if r.get("accountnumber")]
    found += [Ref(r["contactid"], "contact") for r in env.all_rows("contact") if r.get("emailaddress1")][:3]
    for n in range(CUSTOMERS):
        if n % 5 == 4:
            email = f"client{n}@{prefix.lower()}.example"
            row = put(env, "contact", demo_id(env, "history-contact", prefix, str(n)),
                      {"firstname": rng.choice(("Mia", "Noah", "Aroha", "Liam", "Zoë")),
                       "lastname": f"Client{n:02d}", "emailaddress1": email})  # fmt: skip
            found.append(Ref(row["contactid"], "contact"))
        else:
            row = put(env, "account", demo_id(env, "history-account", prefix, str(n)),
                      {"name": f"{prefix} Customer {n:02d} Ltd", "accountnumber": f"{prefix}C-{n:03d}",
                       "emailaddress1": f"ap{n}@{prefix.lower()}-customer.example"})  # fmt: skip
            found.append(Ref(row["accountid"], "account"))
    return found


def _invoice(
    env: EnvironmentState,
    prefix: str,
    n: int,
    number: str,
    issued: date,
    rng: random.Random,
    customer: Ref,
    currency: str,
    prices: str,
    products: list[str],
) -> str:
    values: dict[str, Any] = {
        "invoicenumber": number,
        "name": f"Order {n + 1} ({issued:%B %Y})",
        "customerid": customer,
        "transactioncurrencyid": Ref(currency, "transactioncurrency"),
        "pricelevelid": Ref(prices, "pricelevel"),
        "datedelivered": issued.isoformat(),
        "statuscode": STATUS_REASONS[n % len(STATUS_REASONS)],
    }
    if n % 4:
        values["duedate"] = (issued + timedelta(days=30)).isoformat()
    row_id = demo_id(env, "history-invoice", prefix, number)
    if env.get("invoice", row_id) is not None:  # seeded before: as it is
        return row_id
    invoice_id = put(env, "invoice", row_id, values)["invoiceid"]
    # Every line written makes the sandbox total its invoice from all the environment's lines (a scan):
    # seeding thousands, each invoice's lines are written beside only each other, then joined to the rest.
    everyone, env.rows["invoicedetail"] = env.rows["invoicedetail"], {}
    try:
        _lines(env, prefix, number, invoice_id, rng, products)
    finally:
        everyone.update(env.rows["invoicedetail"])
        env.rows["invoicedetail"] = everyone
    _dated(env, "invoice", invoice_id, issued)
    return str(invoice_id)


def _lines(
    env: EnvironmentState, prefix: str, number: str, invoice_id: str, rng: random.Random, products: list[str]
) -> None:
    for position in range(1, rng.randint(1, 3) + 1):
        line: dict[str, Any] = {
            "invoiceid": Ref(invoice_id, "invoice"),
            "quantity": float(rng.choice((1, 2, 3, 12, 0.5, 250))),
            "lineitemnumber": position,
            "manualdiscountamount": 0.0,
            "tax": 0.0,
        }
        if rng.random() < 0.75:
            which = rng.randrange(len(products))
            line["productid"] = Ref(products[which], "product")
            # the list price, or one typed over it years ago
            line["priceperunit"] = rng.choice((PRODUCTS[which][2], PRODUCTS[which][2], 19.9999, 0.01))
        else:  # a write-in line: a credit now and then
            price = rng.choice((45.0, 12.345, -20.0, 999.99))
            line.update(
                {"isproductoverridden": True, "productdescription": "Write-in", "priceperunit": price}
            )
        put(env, "invoicedetail", demo_id(env, "history-line", prefix, number, str(position)), line)


def _dated(env: EnvironmentState, table: str, row_id: str, issued: date) -> None:
    """Created and last changed back then, as Dynamics would show an old invoice."""
    moment = datetime(issued.year, issued.month, issued.day, 9, 30, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    row = env.get(table, row_id)
    if row is not None:
        row.update({"createdon": moment, "modifiedon": moment})
