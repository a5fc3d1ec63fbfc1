"""Items: create (PUT), create-or-update (POST, matched by ItemID or Code)."""

from __future__ import annotations

import uuid
from typing import Any

from local.sandbox.xero.orgs import Org
from local.sandbox.xero.rules import WriteContext, account_problem, tax_problem, too_long, unit_places
from local.sandbox.xero.wire import money, render

MAX_LENGTHS = {"Code": 30, "Name": 50, "Description": 4000, "PurchaseDescription": 4000}
_DEFAULTS: dict[str, Any] = {
    "IsSold": True,
    "IsPurchased": True,
    "IsTrackedAsInventory": False,
    "SalesDetails": {},
    "PurchaseDetails": {},
}


def find_existing(
    org: Org, data: dict[str, Any], method: str, url_id: str | None
) -> tuple[dict[str, Any] | None, list[str]]:
    if url_id:
        return org.items.get(url_id) or org.item_coded(url_id), []
    if method == "POST" and data.get("ItemID"):
        found = org.items.get(data["ItemID"])
        return found, [] if found else ["An existing Item with the specified ItemID could not be found."]
    if method == "POST" and data.get("Code"):
        return org.item_coded(data["Code"]), []
    return None, []


def upsert_item(
    ctx: WriteContext, data: dict[str, Any], method: str, url_id: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    existing, errors = find_existing(ctx.org, data, method, url_id)
    if errors:
        return render(data), errors
    merged = dict(existing or _DEFAULTS) | data
    errors = too_long(merged, MAX_LENGTHS)
    code = (merged.get("Code") or "").strip()
    if not code:
        errors.append("Item code must be specified.")
    else:
        clash = ctx.org.item_coded(code)
        if clash is not None and (existing is None or clash["ItemID"] != existing["ItemID"]):
            errors.append(f"Item code '{code}' already exists.")
    for details in ("SalesDetails", "PurchaseDetails"):
        errors += _details_problems(ctx, merged.get(details) or {})
    if errors:
        return render(merged), errors
    merged["ItemID"] = existing["ItemID"] if existing else str(uuid.uuid4())
    merged["UpdatedDateUTC"] = ctx.now
    ctx.org.items[merged["ItemID"]] = merged
    return render(merged), []


def _details_problems(ctx: WriteContext, details: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    account = None
    if details.get("AccountCode"):
        account, errors = account_problem(ctx.org, details["AccountCode"])
    if details.get("TaxType") and not errors:
        errors += tax_problem(ctx.org, details["TaxType"], account)[1]
    if details.get("UnitPrice") is not None:
        details["UnitPrice"] = money(details["UnitPrice"], unit_places(ctx.unitdp))
    return errors
