"""Invoice line items: item defaults, account and tax-type checks, tracking, then the arithmetic."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from local.sandbox.xero.money import price_line
from local.sandbox.xero.orgs import Org
from local.sandbox.xero.rules import WriteContext, account_problem, tax_problem, unit_places

MAX_TRACKING = 2


def price_lines(ctx: WriteContext, invoice: dict[str, Any]) -> list[str]:
    """Validate and price every line of `invoice` in place; returns the validation messages."""
    lines = invoice.setdefault("LineItems", [])
    errors: list[str] = []
    if not lines and invoice["Status"] in ("SUBMITTED", "AUTHORISED"):
        errors.append("Invoices must have at least one line item to be approved.")
    for line in lines:
        errors += _line_problems(ctx, invoice, line)
    return errors


def _line_problems(ctx: WriteContext, invoice: dict[str, Any], line: dict[str, Any]) -> list[str]:
    org = ctx.org
    errors = _apply_item(org, invoice["Type"], line)
    account = None
    if line.get("AccountID") and not line.get("AccountCode"):
        by_id = org.account_by_id(line["AccountID"])
        line["AccountCode"] = by_id["Code"] if by_id else line["AccountID"]
    if line.get("AccountCode"):
        account, problems = account_problem(org, line["AccountCode"])
        errors += problems
        if account:
            line["AccountCode"], line["AccountID"] = account["Code"], account["AccountID"]
    elif invoice["Status"] in ("SUBMITTED", "AUTHORISED"):
        errors.append("Account code must be specified for every line item of an approved invoice.")
    rate = Decimal(0)
    if invoice["LineAmountTypes"] != "NoTax":
        tax_type = line.get("TaxType") or (account or {}).get("TaxType")
        if tax_type:
            found, problems = tax_problem(org, tax_type, account)
            errors += problems
            line["TaxType"] = tax_type
            rate = Decimal(str(found["EffectiveRate"])) if found else rate
    elif org.tax_rate("NONE"):
        line["TaxType"] = "NONE"
    discount = line.get("DiscountRate")
    if discount is not None and not Decimal(0) <= discount <= Decimal(100):
        errors.append("Discount rate must be between 0 and 100.")
        discount = None
        line.pop("DiscountRate")
    errors += _tracking_problems(org, line)
    line.setdefault("LineItemID", str(uuid.uuid4()))
    line.setdefault("Tracking", [])
    price_line(line, rate, invoice["LineAmountTypes"], unit_places(ctx.unitdp))
    return errors


def _apply_item(org: Org, invoice_type: str, line: dict[str, Any]) -> list[str]:
    code = line.get("ItemCode")
    if not code:
        return []
    item = org.item_coded(code)
    if item is None:
        return [f"Item code '{code}' is not valid."]
    details = item.get("SalesDetails" if invoice_type == "ACCREC" else "PurchaseDetails") or {}
    line["ItemCode"] = item["Code"]
    line["Item"] = {"ItemID": item["ItemID"], "Code": item["Code"], "Name": item.get("Name", "")}
    if item.get("Description") and not line.get("Description"):
        line["Description"] = item["Description"]
    for field, default in (
        ("UnitAmount", "UnitPrice"),
        ("AccountCode", "AccountCode"),
        ("TaxType", "TaxType"),
    ):
        if line.get(field) is None and details.get(default) is not None:
            line[field] = details[default]
    return []


def _tracking_problems(org: Org, line: dict[str, Any]) -> list[str]:
    tracking = line.get("Tracking") or []
    if len(tracking) > MAX_TRACKING:
        return [f"A line item can have at most {MAX_TRACKING} tracking categories."]
    errors = []
    for entry in tracking:
        category = next(
            (
                c
                for c in org.tracking_categories
                if c["TrackingCategoryID"] == entry.get("TrackingCategoryID")
            ),
            None,
        ) or org.tracking_category(entry.get("Name", ""))
        if category is None:
            errors.append(
                f"Tracking category '{entry.get('Name', entry.get('TrackingCategoryID'))}' does not exist."
            )
            continue
        option = next(
            (
                o
                for o in category["Options"]
                if o["TrackingOptionID"] == entry.get("TrackingOptionID")
                or o["Name"].lower() == str(entry.get("Option", "")).lower()
            ),
            None,
        )
        if option is None or option["Status"] != "ACTIVE":
            errors.append(
                f"Tracking option '{entry.get('Option')}' is not valid for category '{category['Name']}'."
            )
            continue
        entry.update(
            {
                "TrackingCategoryID": category["TrackingCategoryID"],
                "Name": category["Name"],
                "TrackingOptionID": option["TrackingOptionID"],
                "Option": option["Name"],
            }
        )
    return errors
