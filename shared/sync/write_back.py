"""What the Dynamics user sees on the invoice: the Xero id, number, status, link and the last error —
written only when something changed, and together with the Xero ContactID on the customer in ONE
$batch when both are new (one Dataverse call either way)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from shared.dataverse import schema
from shared.dataverse.batch import BatchRequest, BatchResponse
from shared.sync.contacts import ContactChoice
from shared.sync.mapping_contact import ContactPlan
from shared.xero.accounting import XERO_WEB_URL

NOT_SENT = "NOT SENT"
READ_ONLY_STATES = (2, 3)  # Paid, Canceled
SKIPPED = "SKIPPED"


class Dataverse(Protocol):
    def get(self, path_and_query: str) -> dict[str, Any]: ...

    def update(
        self, entity_set: str, row_id: str, values: dict[str, Any], etag: str | None = None
    ) -> None: ...

    def batch(self, requests_: list[BatchRequest]) -> list[BatchResponse]: ...


def invoice_link(invoice_id: str, web_url: str = XERO_WEB_URL, short_code: str = "") -> str:
    """The invoice in Xero's web app. With the organisation's ShortCode the link first switches to that
    organisation (`organisationlogin/default.aspx?shortcode=…&redirecturl=…`, FACTS.md); without it a
    user of several organisations lands in whichever one they used last."""
    view = f"/AccountsReceivable/View.aspx?InvoiceID={invoice_id}"
    if not short_code:
        return f"{web_url}{view}"
    return (
        f"{web_url}/organisationlogin/default.aspx?shortcode={quote(short_code, safe='')}"
        f"&redirecturl={quote(view, safe='/')}"
    )


def success_values(
    invoice: dict[str, Any],
    digest: str,
    now: datetime,
    web_url: str = XERO_WEB_URL,
    short_code: str = "",
    warning: str | None = None,
) -> dict[str, Any]:
    """The warning ("" clears it) goes in the same write; None leaves the one shown as it is."""
    values = {
        schema.INVOICE_XERO_ID: invoice.get("InvoiceID", ""),
        schema.INVOICE_XERO_NUMBER: invoice.get("InvoiceNumber", ""),
        schema.INVOICE_XERO_STATUS: invoice.get("Status", ""),
        schema.INVOICE_XERO_URL: invoice_link(str(invoice.get("InvoiceID", "")), web_url, short_code),
        schema.INVOICE_SYNCED_ON: _timestamp(now),
        schema.INVOICE_SYNC_ERROR: "",
        schema.INVOICE_SYNC_DIGEST: digest,
    }
    if warning is not None:
        values[schema.INVOICE_SYNC_WARNING] = warning[:2000]
    return values


def problem_values(
    doc: dict[str, Any], message: str, now: datetime, status: str | None = None
) -> dict[str, Any]:
    """An error or a skip: the reason in words; the Xero columns keep what they had."""
    values = {schema.INVOICE_SYNC_ERROR: message[:2000], schema.INVOICE_SYNCED_ON: _timestamp(now)}
    if status:
        values[schema.INVOICE_XERO_STATUS] = status
    elif not doc.get(schema.INVOICE_XERO_STATUS):
        values[schema.INVOICE_XERO_STATUS] = NOT_SENT
    return values


def write_back(
    dataverse: Dataverse,
    doc: dict[str, Any],
    values: dict[str, Any],
    contact: tuple[ContactPlan, ContactChoice] | None = None,
) -> int:
    """Write the changed columns; the number of Dataverse calls made (0 or 1)."""
    changed = changed_values(doc, values)
    if not changed:
        return 0
    invoice_id = str(doc["invoiceid"])
    if contact is None or not contact[1].learned:
        dataverse.update("invoices", invoice_id, changed)
        return 1
    plan, choice = contact
    customer_set = "accounts" if plan.customer_table == "account" else "contacts"
    dataverse.batch(
        [
            BatchRequest("PATCH", f"invoices({invoice_id})", changed, {"If-Match": "*"}),
            BatchRequest(
                "PATCH",
                f"{customer_set}({plan.customer_id})",
                {schema.CUSTOMER_XERO_CONTACT_ID: choice.contact_id},
                {"If-Match": "*"},
            ),
        ]
    )
    return 1


def changed_values(doc: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The columns worth writing: {} when nothing the user would see changed (the row and its version
    are left alone) or when Dynamics refuses every change (a paid or cancelled invoice; the portal's
    activity shows it)."""
    if doc.get("statecode") in READ_ONLY_STATES:
        return {}
    changed = {k: v for k, v in values.items() if k == schema.INVOICE_SYNCED_ON or doc.get(k) != v}
    return {} if set(changed) <= {schema.INVOICE_SYNCED_ON} else changed


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
