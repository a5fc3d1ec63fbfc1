"""Which Dynamics invoices the push leaves alone, with a reason the user reads on the invoice."""

from __future__ import annotations

from typing import Any

from shared.dataverse import schema
from shared.store.sync_settings import SyncSettings
from shared.sync.mapping_common import text
from shared.sync.mapping_contact import customer_of
from shared.sync.mapping_items import lines_of

STATE_PAID = 2
STATE_CANCELLED = 3


def ineligible_reason(doc: dict[str, Any], settings: SyncSettings) -> str | None:
    """ "skipped: …" when the invoice must not be pushed; None when it must.

    A cancelled invoice already in Xero is eligible whatever else is true of it: it is pushed so that
    Xero voids or deletes its copy. One that never reached Xero has nothing to cancel.
    """
    in_xero = bool(text(doc.get(schema.INVOICE_XERO_ID)))
    state = doc.get("statecode")
    if state == STATE_CANCELLED:
        return None if in_xero else "skipped: the invoice was cancelled before it was sent to Xero"
    if customer_of(doc) is None:
        return "skipped: the invoice has no customer"
    if not lines_of(doc):
        return "skipped: the invoice has no lines"
    if settings.require_send_flag and doc.get(schema.INVOICE_SEND_TO_XERO) is not True:
        return "skipped: 'Send to Xero' is not set on the invoice"
    if state == STATE_PAID and not in_xero:
        return "skipped: the invoice was already paid in Dynamics before it was sent to Xero"
    return None
