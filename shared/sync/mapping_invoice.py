"""A Dynamics invoice document (the one GET of invoice_query) as a Xero ACCREC Invoice payload.

Amounts leave as JSON numbers rounded to what Xero keeps: UnitAmount and Quantity to 4 decimals (the caller
sends `unitdp=4`), money to 2. The amounts are the ones Dynamics computed: the unit price after the price
list and its volume discount, the manual discount, and a line's tax where Dynamics has one (sent as
TaxAmount, which overrides Xero's own calculation); a line without tax is left to Xero's TaxType.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from shared.store.sync_settings import Numbering, SyncSettings, TaxMode
from shared.sync.mapping_common import FOUR_DP, as_number, clip, decimal_or_none, quantized, text, xero_date
from shared.sync.mapping_items import item_code, lines_of, product_of

_STATUS_RANK = {"DRAFT": 0, "SUBMITTED": 1, "AUTHORISED": 2}
_ZERO = Decimal(0)


def map_invoice(
    doc: dict[str, Any],
    settings: SyncSettings,
    contact_ref: dict[str, Any],
    existing: dict[str, Any] | None = None,
    *,
    known_item_codes: Collection[str] | None = None,
) -> dict[str, Any]:
    """The Xero Invoice to PUT (new) or POST (`existing` given: its InvoiceID makes the POST an update).

    known_item_codes: when given, only those item codes are put on lines (an item the connection may not
    create stays off the line rather than making Xero reject the invoice); None means every product code.
    """
    invoice: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": contact_ref,
        "LineAmountTypes": settings.tax_mode.value,
        "Status": _status(settings, existing),
        **_numbering(doc, settings, existing),
        "LineItems": _lines(doc, settings, known_item_codes) + _invoice_level_lines(doc, settings),
    }
    issued = xero_date(doc.get("datedelivered") or doc.get("createdon"), settings.time_zone)
    due = xero_date(doc.get("duedate"), settings.time_zone)
    invoice.update({key: value for key, value in (("Date", issued), ("DueDate", due)) if value})
    currency = _currency(doc)
    if currency:
        invoice["CurrencyCode"] = currency
    if settings.branding_theme_id:
        invoice["BrandingThemeID"] = settings.branding_theme_id
    if existing and existing.get("InvoiceID"):
        invoice["InvoiceID"] = existing["InvoiceID"]
    return invoice


def _status(settings: SyncSettings, existing: dict[str, Any] | None) -> str:
    """The configured status, but never lower than Xero's: un-approving an invoice is not ours to do."""
    wanted = settings.invoice_status.value
    current = text((existing or {}).get("Status")).upper()
    if current in _STATUS_RANK and _STATUS_RANK[current] > _STATUS_RANK[wanted]:
        return current
    return wanted


def _numbering(
    doc: dict[str, Any], settings: SyncSettings, existing: dict[str, Any] | None
) -> dict[str, str]:
    number, name = clip(doc.get("invoicenumber"), 255), clip(doc.get("name"), 255)
    if settings.numbering is Numbering.DYNAMICS:
        fields = {"InvoiceNumber": number, "Reference": name}
    else:
        # Xero numbers the invoice; keep the number it gave on every later update.
        kept = clip((existing or {}).get("InvoiceNumber"), 255)
        fields = {"InvoiceNumber": kept, "Reference": number}
    return {key: value for key, value in fields.items() if value}


def _currency(doc: dict[str, Any]) -> str | None:
    currency = doc.get("transactioncurrencyid")
    code = text(currency.get("isocurrencycode")).upper() if isinstance(currency, dict) else ""
    return code if len(code) == 3 else None


def _lines(
    doc: dict[str, Any], settings: SyncSettings, known: Collection[str] | None
) -> list[dict[str, Any]]:
    ordered = sorted(lines_of(doc), key=_line_order)
    return [_line(line, settings, known) for line in ordered]


def _line_order(line: dict[str, Any]) -> tuple[int, str]:
    number = line.get("lineitemnumber")
    position = number if isinstance(number, int) and not isinstance(number, bool) else 2**31
    return position, text(line.get("invoicedetailid"))


def _line(line: dict[str, Any], settings: SyncSettings, known: Collection[str] | None) -> dict[str, Any]:
    item: dict[str, Any] = {"Description": _description(line)}
    quantity = decimal_or_none(line.get("quantity"))
    if quantity is not None:
        item["Quantity"] = as_number(quantity, FOUR_DP)
    item["UnitAmount"] = as_number(_unit_price(line), FOUR_DP)
    code = item_code(line)
    if code and (known is None or code in known):
        item["ItemCode"] = code
    item.update(_ledger(settings))
    discount = decimal_or_none(line.get("manualdiscountamount"))
    if discount is not None and discount > 0:
        item["DiscountAmount"] = as_number(discount)  # the spec's LineItem takes an amount, no rate needed
    tax = decimal_or_none(line.get("tax"))
    if tax is not None and tax > 0 and settings.tax_mode is TaxMode.EXCLUSIVE:
        # Dynamics computed this line's tax (a tax plug-in or a typed figure): Xero's spec lets TaxAmount
        # override its own calculation, so both systems show the same total
        item["TaxAmount"] = as_number(tax)
    return item


def _unit_price(line: dict[str, Any]) -> Decimal:
    """The price Dynamics charged per unit: the price list's (or the typed) price less the per-unit
    volume discount of its discount list (Learn, invoicedetail: baseamount uses both)."""
    price = decimal_or_none(line.get("priceperunit")) or _ZERO
    return price - (decimal_or_none(line.get("volumediscountamount")) or _ZERO)


def _description(line: dict[str, Any]) -> str:
    product = product_of(line)
    if product is None:
        return clip(line.get("productdescription"), 4000) or "Write-in product"
    found = (
        text(product.get("description")) or text(product.get("name")) or text(product.get("productnumber"))
    )
    return clip(found, 4000)


def _ledger(settings: SyncSettings) -> dict[str, str]:
    ledger = {"AccountCode": settings.default_account_code}
    if settings.default_tax_type and settings.tax_mode is not TaxMode.NO_TAX:
        ledger["TaxType"] = settings.default_tax_type
    return ledger


def _invoice_level_lines(doc: dict[str, Any], settings: SyncSettings) -> list[dict[str, Any]]:
    """Invoice-level discount and freight, which Xero has no field for, as lines of their own.

    Dynamics takes `discountpercentage` of the lines' net total, then `discountamount` off, then adds
    `freightamount`. One negative "Discount" line and one "Freight" line reproduce that total; both go to
    the default account and tax type, so Xero's tax follows the same rate as the goods they belong to.
    """
    extra = []
    percentage = decimal_or_none(doc.get("discountpercentage")) or _ZERO
    discount = (decimal_or_none(doc.get("discountamount")) or _ZERO) + quantized(_net(doc) * percentage / 100)
    if discount > 0:
        label = f"Discount ({percentage.normalize():f}%)" if percentage > 0 else "Discount"
        extra.append({"Description": label, "Quantity": 1.0, "UnitAmount": -as_number(discount)})
    freight = decimal_or_none(doc.get("freightamount")) or _ZERO
    if freight > 0:
        extra.append({"Description": "Freight", "Quantity": 1.0, "UnitAmount": as_number(freight)})
    return [{**line, **_ledger(settings)} for line in extra]


def _net(doc: dict[str, Any]) -> Decimal:
    total = _ZERO
    for line in lines_of(doc):
        quantity = decimal_or_none(line.get("quantity")) or _ZERO
        total += quantized(quantity * _unit_price(line)) - (
            decimal_or_none(line.get("manualdiscountamount")) or _ZERO
        )
    return total
