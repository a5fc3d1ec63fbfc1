"""Which Dynamics invoices a backfill takes, as Dataverse queries: the date range and status reasons the
person chose, read page by page in invoiceid order from a cursor (the last id of the previous page).

Keyset paging (`invoiceid gt <last>` with `$orderby=invoiceid`) rather than a stored @odata.nextLink: a
page is the same page when it is read again after a crash, whatever was written meanwhile (the
write-back changes modifiedon, never the id), and the cursor is a plain id that fits in a table row. It is
how Dataverse pages itself: its paging cookie names the last primary key of the page (Learn, "Page
results using FetchXml", paging cookie `<invoiceid last="…" first="…"/>`), compared the way the
database orders that column, which is also how $orderby orders it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from shared.dataverse import schema
from shared.dataverse.invoice_query import invoices_query
from shared.dataverse.values import is_guid

# Dynamics' status reasons (statuscode) of an Active invoice (statecode 0), Learn "invoice EntityType",
# statuscode choices. Paid (2) and cancelled (3) invoices are not backfilled: a paid invoice created in
# Xero would show as owed there (the push skips them too, shared/sync/eligibility.py).
OPEN_STATUS_REASONS: tuple[tuple[int, str], ...] = (
    (1, "New"),
    (2, "Partially shipped"),
    (4, "Billed"),
    (5, "Booked (services)"),
    (6, "Installed (products)"),
)
STATE_ACTIVE = 0
PAGE_SIZE = 50  # Xero recommends at most 50 elements a PUT (FACTS.md, "Writes")


@dataclass(frozen=True)
class Selection:
    date_from: date
    date_to: date
    status_reasons: tuple[int, ...]
    send_flag_required: bool = False  # the connection pushes only invoices with "Send to Xero" set

    def filter(self) -> str:
        """The invoice date is `datedelivered` (what the mapping sends as Date), else the day it was
        created, as in shared/sync/mapping_invoice.py."""
        start, after = self.date_from.isoformat(), (self.date_to + timedelta(days=1)).isoformat()
        dated = f"(datedelivered ge {start} and datedelivered lt {after})"
        undated = (
            f"(datedelivered eq null and createdon ge {start}T00:00:00Z and createdon lt {after}T00:00:00Z)"
        )
        reasons = " or ".join(f"statuscode eq {int(s)}" for s in self.status_reasons)
        parts = [f"statecode eq {STATE_ACTIVE}", f"({reasons})", f"({dated} or {undated})"]
        if self.send_flag_required:
            parts.append(f"{schema.INVOICE_SEND_TO_XERO} eq true")
        return " and ".join(parts)


def page_query(selection: Selection, cursor: str, size: int = PAGE_SIZE) -> str:
    after = ""
    if cursor:
        if not is_guid(cursor):
            raise ValueError(f"not an invoice id: {cursor!r}")
        after = f" and invoiceid gt {cursor.lower()}"
    return invoices_query(selection.filter() + after, size)


def count_query(selection: Selection) -> str:
    """The invoices in the selection with just what the estimate needs: whether each is in Xero already,
    and whether its customer is (a new one costs a contact)."""
    customer = f"$select={schema.CUSTOMER_XERO_CONTACT_ID}"
    return (
        f"invoices?$select=invoiceid,_customerid_value,{schema.INVOICE_XERO_ID}"
        f"&$expand=customerid_account({customer}),customerid_contact({customer})"
        f"&$filter={selection.filter()}"
    )


def customer_known_to_xero(row: dict[str, Any]) -> bool:
    for table in ("account", "contact"):
        customer = row.get(f"customerid_{table}")
        if isinstance(customer, dict) and customer.get(schema.CUSTOMER_XERO_CONTACT_ID):
            return True
    return False


def parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None
