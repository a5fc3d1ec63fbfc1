"""Invoice arithmetic the way Dynamics 365 Sales calculates it (system-calculated pricing):

line:    baseamount = quantity × priceperunit;  extendedamount = baseamount − manualdiscountamount + tax
invoice: totallineitemamount = Σ(baseamount − manualdiscountamount)
         totaldiscountamount = discountamount + totallineitemamount × discountpercentage / 100
         totalamountlessfreight = totallineitemamount − totaldiscountamount
         totaltax = Σ tax;  totalamount = totalamountlessfreight + freightamount + totaltax
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

INVOICE_TOTAL_COLUMNS = (
    "totallineitemamount",
    "totallineitemdiscountamount",
    "totaldiscountamount",
    "totalamountlessfreight",
    "totaltax",
    "totalamount",
)


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def line_amounts(line: dict[str, Any]) -> dict[str, float]:
    base = _d(line.get("quantity")) * _d(line.get("priceperunit"))
    extended = base - _d(line.get("manualdiscountamount")) + _d(line.get("tax"))
    return {"baseamount": money(base), "extendedamount": money(extended)}


def invoice_totals(invoice: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, float]:
    net_lines = sum((_d(x.get("baseamount")) - _d(x.get("manualdiscountamount")) for x in lines), Decimal(0))
    line_discounts = sum((_d(x.get("manualdiscountamount")) for x in lines), Decimal(0))
    tax = sum((_d(x.get("tax")) for x in lines), Decimal(0))
    discount = _d(invoice.get("discountamount")) + net_lines * _d(invoice.get("discountpercentage")) / 100
    less_freight = net_lines - discount
    return {
        "totallineitemamount": money(net_lines),
        "totallineitemdiscountamount": money(line_discounts),
        "totaldiscountamount": money(discount),
        "totalamountlessfreight": money(less_freight),
        "totaltax": money(tax),
        "totalamount": money(less_freight + _d(invoice.get("freightamount")) + tax),
    }
