"""What a Xero invoice means for its Dynamics invoice: the write-back columns to change, and whether the
Dynamics invoice closes as Paid. Pure functions of (Xero invoice, Dynamics row, setting)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.dataverse import schema
from shared.dataverse.values import parse_ms_date
from shared.sync.mapping_common import decimal_or_none

STATE_ACTIVE, STATE_PAID = 0, 2
STATUS_COMPLETE = 100001  # invoice statuscode "Complete" of state Paid (Dataverse's invoice status reason)
READ_ONLY_STATES = (2, 3)  # Dynamics refuses changes to paid and cancelled invoices
# The connector stamps dxc_syncedon just before its write: a row modified within this long after the stamp
# was modified by that write, not by a person.
WRITE_GRACE = timedelta(seconds=5)


@dataclass(frozen=True)
class InvoiceChange:
    invoice_id: str  # the Dynamics invoice
    values: dict[str, Any]  # write-back columns that differ from what the row shows
    close_as_paid: bool
    in_step: bool  # the row showed no Dynamics change the push has not seen (see out_of_step)


def out_of_step(row: dict[str, Any]) -> bool:
    """Never written on by the connector, or changed after its last write: a Dynamics change (whose
    webhook may have been lost) that no push has seen yet."""
    synced = _moment(row.get(schema.INVOICE_SYNCED_ON))
    modified = _moment(row.get("modifiedon"))
    if synced is None:
        return True
    return modified is not None and modified > synced + WRITE_GRACE


def updated_at(xero_invoice: dict[str, Any]) -> str:
    """Xero's UpdatedDateUTC as a sortable ISO text ('' when Xero gave none)."""
    moment = _moment(xero_invoice.get("UpdatedDateUTC"))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if moment else ""


def change_for(xero_invoice: dict[str, Any], row: dict[str, Any], close_paid: bool) -> InvoiceChange | None:
    """None when Dynamics already shows this (or a newer) state of the Xero invoice, or cannot change."""
    invoice_id = str(row["invoiceid"])
    seen = str(row.get(schema.INVOICE_XERO_UPDATED_AT) or "")
    now = updated_at(xero_invoice)
    if seen and now and seen > now:
        return None  # an older read than the one already written (two events raced): leave the newer
    if row.get("statecode") in READ_ONLY_STATES:
        return None
    wanted = {
        schema.INVOICE_XERO_STATUS: str(xero_invoice.get("Status") or ""),
        schema.INVOICE_XERO_AMOUNT_PAID: _amount(xero_invoice.get("AmountPaid")),
        schema.INVOICE_XERO_AMOUNT_DUE: _amount(xero_invoice.get("AmountDue")),
        schema.INVOICE_XERO_PAID_ON: _date(xero_invoice.get("FullyPaidOnDate")),
    }
    changed = {k: v for k, v in wanted.items() if not _same(row.get(k), v)}
    paid = wanted[schema.INVOICE_XERO_STATUS] == "PAID"
    close = close_paid and paid and row.get("statecode") == STATE_ACTIVE
    if not changed and not close:
        return None
    if now:
        changed[schema.INVOICE_XERO_UPDATED_AT] = now
    return InvoiceChange(invoice_id, changed, close, not out_of_step(row))


def _same(shown: Any, wanted: Any) -> bool:
    if isinstance(wanted, float) or isinstance(shown, int | float):
        return decimal_or_none(shown) == decimal_or_none(wanted)
    return (shown or None) == (wanted or None)


def _amount(value: Any) -> float | None:
    amount = decimal_or_none(value)
    return float(amount.quantize(Decimal("0.01"))) if amount is not None else None


def _date(value: Any) -> str | None:
    moment = _moment(value)
    return moment.date().isoformat() if moment else None


def _moment(value: Any) -> datetime | None:
    """Xero answers dates as /Date(ms+0000)/ (FACTS.md; x-is-msdate); ISO text is accepted too."""
    if not value:
        return None
    text = str(value)
    parsed = parse_ms_date(text)
    if parsed is not None:
        return parsed
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
