"""Dynamics products as Xero Items, and which of them Xero still lacks or holds out of date.

Only catalogue products become items. Write-in lines (`isproductoverridden`, or no product) have no item.
A product number longer than Xero's 30-character item Code cannot be an item at all: cutting it could
merge two products into one item, so its lines go to Xero as description-only lines and a warning says so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.store.sync_settings import SyncSettings
from shared.sync.mapping_common import FOUR_DP, as_number, clip, decimal_or_none, quantized, text

CODE_LIMIT = 30
NAME_LIMIT = 50
DESCRIPTION_LIMIT = 4000


def lines_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    lines = doc.get("invoice_details")
    return [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []


def product_of(line: dict[str, Any]) -> dict[str, Any] | None:
    """The catalogue product of a line; None for a write-in line."""
    product = line.get("productid")
    if line.get("isproductoverridden") is True or not isinstance(product, dict):
        return None
    return product if text(product.get("productnumber")) else None


def item_code(line: dict[str, Any]) -> str | None:
    """The Xero ItemCode of a line, or None when the line is description-only."""
    product = product_of(line)
    code = text(product.get("productnumber")) if product else ""
    return code if 0 < len(code) <= CODE_LIMIT else None


def wanted_items(doc: dict[str, Any], settings: SyncSettings | None = None) -> list[dict[str, Any]]:
    """One Xero Item payload per distinct product on the invoice (settings add the sales account/tax)."""
    items: dict[str, dict[str, Any]] = {}
    for line in lines_of(doc):
        code, product = item_code(line), product_of(line)
        if code and product and code not in items:
            items[code] = _item(code, product, settings)
    return list(items.values())


def item_warnings(doc: dict[str, Any]) -> list[str]:
    warnings: list[str] = []
    for line in lines_of(doc):
        product = product_of(line)
        code = text(product.get("productnumber")) if product else ""
        if len(code) > CODE_LIMIT:
            warning = (
                f"product number {code[:60]!r} is longer than Xero's {CODE_LIMIT}-character item code: "
                "its lines were sent without an item"
            )
            if warning not in warnings:
                warnings.append(warning)
    return warnings


def items_to_write(
    wanted: list[dict[str, Any]], existing_by_code: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The wanted items Xero does not have, or has with another name, description or sales price.

    Changed ones carry their ItemID so a POST updates them. Fields Xero fills itself (ItemID, UpdatedDateUTC,
    IsTrackedAsInventory, ...) are never compared.
    """
    folded = {code.casefold(): item for code, item in existing_by_code.items()}
    writes = []
    for item in wanted:
        current = existing_by_code.get(item["Code"]) or folded.get(item["Code"].casefold())
        if current is None:
            writes.append(item)
        elif _differs(item, current):
            writes.append({**item, "ItemID": current["ItemID"]} if current.get("ItemID") else item)
    return writes


def _item(code: str, product: dict[str, Any], settings: SyncSettings | None) -> dict[str, Any]:
    name, description = text(product.get("name")), text(product.get("description"))
    item: dict[str, Any] = {"Code": code, "Name": clip(name, NAME_LIMIT) or code}
    # The full name survives in the description when the 50-character Name had to be cut.
    full = description or name
    if full:
        item["Description"] = clip(full, DESCRIPTION_LIMIT)
    sales: dict[str, Any] = {}
    price = decimal_or_none(product.get("price"))
    if price is not None:
        sales["UnitPrice"] = as_number(price, FOUR_DP)
    if settings is not None:
        sales["AccountCode"] = settings.default_account_code
        if settings.default_tax_type:
            sales["TaxType"] = settings.default_tax_type
    if sales:
        item["SalesDetails"] = sales
    return item


def _differs(wanted: dict[str, Any], current: dict[str, Any]) -> bool:
    if text(wanted.get("Name")) != text(current.get("Name")):
        return True
    if "Description" in wanted and text(wanted["Description"]) != text(current.get("Description")):
        return True
    wanted_price = _price(wanted)
    return wanted_price is not None and wanted_price != _price(current)


def _price(item: dict[str, Any]) -> Decimal | None:
    sales = item.get("SalesDetails")
    price = decimal_or_none(sales.get("UnitPrice")) if isinstance(sales, dict) else None
    return quantized(price, FOUR_DP) if price is not None else None
