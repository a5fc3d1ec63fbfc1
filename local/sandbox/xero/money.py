"""Invoice arithmetic as Xero does it: line amounts at 2 dp after the discount, tax rounded per line,
totals summed from the rounded lines; Inclusive lines carry their tax inside the line amount."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from local.sandbox.xero.wire import money

ZERO = Decimal("0.00")


def price_line(line: dict[str, Any], rate_percent: Decimal, amount_types: str, unit_places: int) -> None:
    """Fill Quantity, UnitAmount, LineAmount, TaxAmount and DiscountAmount of one line (in place)."""
    given_amount = line.get("LineAmount")
    unit = line.get("UnitAmount")
    quantity = line.get("Quantity")
    if quantity is None:
        quantity = (given_amount / unit) if (given_amount is not None and unit) else Decimal(1)
    if unit is None:
        unit = (given_amount / quantity) if (given_amount is not None and quantity) else ZERO
    quantity, unit = money(quantity, 4), money(unit, unit_places)
    discount_rate = line.get("DiscountRate") or ZERO
    discount_amount = line.get("DiscountAmount") if not discount_rate else None
    gross = money(quantity * unit)
    if discount_amount:  # Xero takes either a rate or an amount off the line
        line_amount = gross - money(min(max(Decimal(discount_amount), ZERO), gross))
    else:
        line_amount = money(quantity * unit * (Decimal(100) - discount_rate) / Decimal(100))
    given_tax = line.get("TaxAmount")
    if amount_types == "NoTax":
        tax = ZERO
    elif given_tax is not None and amount_types == "Exclusive":
        # spec (LineItem.TaxAmount): "auto calculated ... This value can be overriden if the calculated
        # <TaxAmount> is not correct."
        tax = money(Decimal(str(given_tax)))
    elif amount_types == "Inclusive":
        tax = money(line_amount * rate_percent / (Decimal(100) + rate_percent))
    else:
        tax = money(line_amount * rate_percent / Decimal(100))
    line.update({"Quantity": quantity, "UnitAmount": unit, "LineAmount": line_amount, "TaxAmount": tax})
    if discount_rate:
        line["DiscountRate"] = money(discount_rate)
        line["DiscountAmount"] = gross - line_amount
    elif discount_amount:
        line["DiscountAmount"] = gross - line_amount
    else:
        line.pop("DiscountAmount", None)


def invoice_totals(lines: list[dict[str, Any]], amount_types: str, amount_paid: Decimal) -> dict[str, Any]:
    line_sum = sum((line["LineAmount"] for line in lines), ZERO)
    total_tax = sum((line["TaxAmount"] for line in lines), ZERO)
    discount = sum((line.get("DiscountAmount", ZERO) for line in lines), ZERO)
    sub_total = line_sum - total_tax if amount_types == "Inclusive" else line_sum
    total = sub_total + total_tax
    return {
        "SubTotal": sub_total,
        "TotalTax": total_tax,
        "Total": total,
        "TotalDiscount": discount,
        "AmountPaid": amount_paid,
        "AmountDue": total - amount_paid,
        "IsDiscounted": discount > 0,
    }
