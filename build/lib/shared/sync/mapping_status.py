"""What the connector may still do to an invoice Xero already holds."""

from __future__ import annotations

from decimal import Decimal

from shared.sync.mapping_common import decimal_or_none

_CANCEL = {"AUTHORISED": "VOIDED", "DRAFT": "DELETED", "SUBMITTED": "DELETED"}


def cancel_action(existing_status: str) -> str | None:
    """The Xero status that mirrors a cancelled Dynamics invoice (statecode 3), or None if nothing to do.

    Xero deletes drafts and voids approved invoices; paid, voided and deleted ones are final.
    """
    return _CANCEL.get(existing_status.strip().upper())


def can_update(existing_status: str, amount_paid: object) -> tuple[bool, str]:
    """Whether a Dynamics change may be copied onto the Xero invoice, and if not why, in the user's words."""
    status = existing_status.strip().upper()
    if status == "PAID":
        return False, "the invoice is paid in Xero, so Dynamics changes are no longer copied"
    if status in ("VOIDED", "DELETED"):
        return False, f"the invoice was {status.lower()} in Xero, so Dynamics changes are no longer copied"
    if (decimal_or_none(amount_paid) or Decimal(0)) > 0:
        return False, "the invoice has payments in Xero: remove them in Xero before it can be updated"
    return True, ""
