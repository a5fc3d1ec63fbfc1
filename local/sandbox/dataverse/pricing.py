"""Invoice arithmetic the way Dynamics 365 Sales calculates it (system-calculated pricing):

line:    baseamount = quantity × (priceperunit − volumediscountamount)
         extendedamount = baseamount − manualdiscountamount + tax
         (Learn, invoicedetail reference: baseamount is "based on the price per unit, volume discount, and
         quantity"; volumediscountamount is per unit)
invoice: totallineitemamount = Σ(baseamount − manualdiscountamount)
         totaldiscountamount = discountamount + totallineitemamount × discountpercentage / 100
         totalamountlessfreight = totallineitemamount − totaldiscountamount
         totaltax = Σ tax;  totalamount = totalamountlessfreight + freightamount + totaltax
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .store import EnvironmentState, Ref, Row

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
    unit = _d(line.get("priceperunit")) - _d(line.get("volumediscountamount"))
    base = _d(line.get("quantity")) * unit
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


def price_list_item(env: EnvironmentState, invoice: Row, product: Row, line: Row) -> Row | None:
    """The invoice's price list entry for the line's product (and unit, when the entry names one)."""
    price_list = invoice.get("pricelevelid")
    if not isinstance(price_list, Ref):
        return None
    for item in env.all_rows("productpricelevel"):
        if _points(item.get("pricelevelid"), price_list.id) and _points(
            item.get("productid"), product["productid"]
        ):
            unit = item.get("uomid")
            if unit is None or not isinstance(line.get("uomid"), Ref) or _points(unit, line["uomid"].id):
                return item
    return None


def volume_discount(env: EnvironmentState, item: Row | None, line: Row) -> float:
    """The per-unit discount of the item's discount list band that holds the line's quantity."""
    discount_list = (item or {}).get("discounttypeid")
    if not isinstance(discount_list, Ref):
        return 0.0
    kind = env.get("discounttype", discount_list.id) or {}
    quantity = _d(line.get("quantity"))
    for band in env.all_rows("discount"):
        if not _points(band.get("discounttypeid"), discount_list.id):
            continue
        if _d(band.get("lowquantity")) <= quantity <= _d(band.get("highquantity")):
            if kind.get("isamounttype"):
                return money(_d(band.get("amount")))
            return money(_d(line.get("priceperunit")) * _d(band.get("percentage")) / 100)
    return 0.0


def _points(ref: Any, row_id: str) -> bool:
    return isinstance(ref, Ref) and ref.id == row_id
