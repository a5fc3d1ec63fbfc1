"""Years of use, seeded into an organisation: what a real customer's Xero holds on the day the connector
is connected (issue 13). Hundreds of contacts — some with the names, e-mails or numbers of the Dynamics
sample customers (local/sandbox/dataverse/demo.py), in another case or with an accent, some archived —
items priced to four decimals with codes at the 30-character limit, invoices over three years in several
currencies and states whose numbers include those Dynamics uses (INV-00001, INV-00002), payment terms on
the organisation and on contacts, tracking on lines.

Everything is written through the sandbox's own write rules (the same ones the API uses), so the history
is something Xero would have accepted. Deterministic: the same organisation gets the same history."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from local.sandbox.xero import contacts, invoices, items
from local.sandbox.xero.orgs import Org
from local.sandbox.xero.rules import WriteContext
from local.sandbox.xero.typecheck import elements_of

ORGANISATION_TERMS = {
    "Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"},
    "Bills": {"Day": 30, "Type": "DAYSAFTERBILLDATE"},
}
# The Dynamics sample customers as someone typed them into Xero years ago.
KNOWN_CUSTOMERS: list[dict[str, Any]] = [
    {"Name": "FABRIKAM LTD", "ContactNumber": "FAB-001", "EmailAddress": "billing@fabrikam.example"},
    {
        "Name": "O'Brien & Sons",
        "EmailAddress": "accounts@obrien.example",
        "PaymentTerms": {"Sales": {"Day": 14, "Type": "DAYSAFTERBILLDATE"}},
    },
    {"Name": "Northwind Traders", "ContactStatus": "ARCHIVED", "EmailAddress": "old-ap@northwind.example"},
    {"Name": "Adventure Works GmbH", "AccountNumber": "ADV-005", "DefaultCurrency": "EUR"},
    {"Name": "Ana Bauer", "FirstName": "Ana", "LastName": "Bauer", "EmailAddress": "ana.bauer@example.com"},
    {
        "Name": "Jo Mueller",
        "FirstName": "Jo",
        "LastName": "Mueller",
        "EmailAddress": "jo.mueller@example.com",
    },
    {"Name": "sam lee", "EmailAddress": "SAM.LEE@EXAMPLE.COM"},
]
_FIRST = ("Kauri", "Tui", "Harbour", "Summit", "Pacific", "Southern", "Café", "Lumière", "Ōtautahi", "Kea")
_SECOND = ("Builders", "Traders", "Plumbing", "Bakery", "Logistics", "Design", "Motors", "Dental", "Farms")
_SUFFIX = ("Ltd", "Limited", "& Co", "Holdings", "Group", "")
ITEM_CODE_AT_LIMIT = "HW-FASTENER-STAINLESS-M6X20-BX"  # 30 characters, Xero's limit for a Code


def seed_history(org: Org, now: datetime, contact_count: int = 320, invoice_count: int = 260) -> None:
    rng = random.Random(org.tenant_id)
    ctx = WriteContext(org, now - timedelta(days=3 * 365), 4)
    org.organisation["PaymentTerms"] = ORGANISATION_TERMS
    made = [_put(ctx, "Contacts", contacts.upsert_contact, c) for c in KNOWN_CUSTOMERS]
    for n in range(contact_count - len(KNOWN_CUSTOMERS)):
        made.append(_put(ctx, "Contacts", contacts.upsert_contact, _contact(rng, n)))
    for n, item in enumerate(_items(rng)):
        _put(ctx, "Items", items.upsert_item, item | {"Name": item.get("Name") or f"Stock line {n}"})
    active = [c for c in made if c["ContactStatus"] == "ACTIVE"]
    currencies = [c["Code"] for c in org.currencies]
    for n in range(invoice_count):
        ctx.now = now - timedelta(days=3 * 365 - n * 4)
        number = {0: "INV-00001", 1: "INV-00002"}.get(n, f"INV-{n + 1:04d}")
        _invoice(ctx, rng, rng.choice(active), number, rng.choice(currencies))
    org.last_invoice_number = invoice_count
    ctx.events.clear()  # history, not news: no webhooks for it


def _put(ctx: WriteContext, collection: str, upsert: Any, data: dict[str, Any]) -> dict[str, Any]:
    [element] = elements_of(collection, {collection: [data]})
    stored, errors = upsert(ctx, element, "PUT")
    if errors:
        raise ValueError(f"seed {collection} {data}: {errors}")
    return dict(stored)


def _contact(rng: random.Random, n: int) -> dict[str, Any]:
    name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_SUFFIX)}".strip() + f" {n:03d}"
    if n % 17 == 0:
        name = name.upper()
    contact: dict[str, Any] = {
        "Name": name,
        "ContactNumber": f"X{n:05d}",
        "EmailAddress": f"accounts{n}@{_ascii(name.split()[0].lower())}.example",
    }
    if n % 10 == 3:
        contact["ContactStatus"] = "ARCHIVED"
    if n % 7 == 0:
        contact["PaymentTerms"] = {"Sales": {"Day": rng.choice((7, 14, 30)), "Type": "DAYSAFTERBILLDATE"}}
    if n % 11 == 0:
        contact["AccountNumber"] = f"AR-{n:04d}"
    return contact


def _ascii(word: str) -> str:
    return word.encode("ascii", "ignore").decode() or "x"


def _items(rng: random.Random) -> list[dict[str, Any]]:
    found = [
        {
            "Code": ITEM_CODE_AT_LIMIT,
            "Name": "Stainless fastener M6x20, box of 100 (bulk pack)"[:50],
            "SalesDetails": {"UnitPrice": "18.4575", "AccountCode": "200"},
        },
        {"Code": "SHIP-STD", "Name": "Standard shipping", "SalesDetails": {"UnitPrice": "9.9500"}},
    ]
    for n in range(40):
        price = Decimal(rng.randint(100, 999_999)) / Decimal(10_000)  # four decimal places
        found.append(
            {"Code": f"STK-{n:04d}", "SalesDetails": {"UnitPrice": str(price), "AccountCode": "200"}}
        )
    return found


def _invoice(
    ctx: WriteContext, rng: random.Random, contact: dict[str, Any], number: str, currency: str
) -> None:
    issued = ctx.now.date()
    status = rng.choice(("AUTHORISED", "AUTHORISED", "AUTHORISED", "DRAFT", "VOIDED"))
    tracking = [
        {"Name": t["Name"], "Option": t["Options"][rng.randrange(len(t["Options"]))]["Name"]}
        for t in ctx.org.tracking_categories[:1]
        if t.get("Options")
    ]
    lines = [
        {
            "Description": f"Order line {k + 1}",
            "Quantity": str(rng.randint(1, 12)),
            "UnitAmount": str(Decimal(rng.randint(500, 250_000)) / 100),
            "AccountCode": "200",
            "Tracking": tracking,
        }
        for k in range(rng.randint(1, 4))
    ]
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "InvoiceNumber": number,
        "Reference": f"PO {rng.randint(1000, 9999)}",
        "Date": issued.isoformat(),
        "DueDate": (issued + timedelta(days=30)).isoformat(),
        "CurrencyCode": currency,
        "Status": "AUTHORISED" if status == "VOIDED" else status,
        "LineAmountTypes": "Exclusive",
        "LineItems": lines,
    }
    stored = _put(ctx, "Invoices", invoices.upsert_invoice, body)
    if status == "VOIDED":
        [element] = elements_of("Invoices", {"Invoices": [{"Status": "VOIDED"}]})
        invoices.upsert_invoice(ctx, element, "POST", stored["InvoiceID"])
