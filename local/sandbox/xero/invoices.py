"""Invoices: create (PUT), create-or-update (POST, matched by InvoiceID or ACCREC InvoiceNumber), with
Xero's status machine, contact resolution, line validation and arithmetic."""

from __future__ import annotations

import copy
import re
import uuid
from decimal import Decimal
from typing import Any

from local.sandbox.xero import contacts
from local.sandbox.xero.invoice_contact import resolve_contact
from local.sandbox.xero.invoice_lines import price_lines
from local.sandbox.xero.money import ZERO, invoice_totals
from local.sandbox.xero.orgs import Org
from local.sandbox.xero.rules import WriteContext, too_long
from local.sandbox.xero.wire import parse_day, render

NOT_MODIFIABLE = "Invoice not of valid status for modification"
HAS_PAYMENT = "This document cannot be edited as it has a payment or credit note allocated to it."
_NEXT_STATUS = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def find_existing(
    org: Org, data: dict[str, Any], method: str, url_id: str | None
) -> tuple[dict[str, Any] | None, list[str]]:
    if url_id:
        return org.invoices.get(url_id) or org.invoice_numbered(url_id), []
    if method == "POST" and data.get("InvoiceID"):
        found = org.invoices.get(data["InvoiceID"])
        return found, [] if found else [
            "An existing Invoice with the specified InvoiceID could not be found."
        ]
    if method == "POST" and data.get("InvoiceNumber") and data.get("Type", "ACCREC") == "ACCREC":
        return org.invoice_numbered(data["InvoiceNumber"]), []
    return None, []


def upsert_invoice(
    ctx: WriteContext, data: dict[str, Any], method: str, url_id: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Returns (the stored invoice rendered, []) or (the element echoed back, validation messages)."""
    existing, errors = find_existing(ctx.org, data, method, url_id)
    if errors:
        return render(data), errors
    if existing is not None:
        errors = _modification_problems(existing, data)
        if errors:
            return render(data), errors
    merged = (
        copy.deepcopy(existing)
        if existing
        else {"Type": data.get("Type"), "Status": "DRAFT", "LineAmountTypes": "Exclusive"}
    )
    incoming = {k: v for k, v in data.items() if k != "Contact"}
    merged.update(incoming)
    pending_contact: dict[str, Any] | None = None
    errors = too_long(merged, {"InvoiceNumber": 255})
    errors += _status_problems(existing, merged)
    errors += _type_problems(merged)
    if "Contact" in data or existing is None:
        contact, pending_contact, contact_errors = resolve_contact(ctx.org, data.get("Contact"))
        errors += contact_errors
        if contact is not None:
            merged["_contact_id"] = contact["ContactID"]
    errors += _date_problems(ctx, merged)
    if merged["Status"] in ("SUBMITTED", "AUTHORISED") and merged.get("DueDate") is None:
        # Only a DRAFT may lack a due date, on PUT and POST alike (waynerobinson/xeroizer#290, #395), and
        # Xero does not fill it from payment terms for an API call (XeroAPI/xero-python#78).
        errors.append("The document DueDate field must be specified.")
    errors += _currency_and_theme_problems(ctx.org, merged)
    errors += _number_problems(ctx.org, merged, existing)
    errors += price_lines(ctx, merged)
    if errors:
        echo = render({k: v for k, v in merged.items() if not k.startswith("_")})
        echo["Contact"] = data.get("Contact", {})
        return echo, errors
    return render_invoice(ctx.org, _save(ctx, merged, existing, pending_contact)), []


def _modification_problems(existing: dict[str, Any], data: dict[str, Any]) -> list[str]:
    status = existing["Status"]
    if status in ("VOIDED", "DELETED", "PAID"):
        return [NOT_MODIFIABLE]
    if existing["AmountPaid"] > 0:
        if data.get("Status") == "VOIDED":
            return ["This invoice has payments or credit notes allocated to it and cannot be voided."]
        return [HAS_PAYMENT]
    return []


def _status_problems(existing: dict[str, Any] | None, merged: dict[str, Any]) -> list[str]:
    status = merged["Status"]
    if existing is None:
        return (
            []
            if status in ("DRAFT", "SUBMITTED", "AUTHORISED")
            else [f"Invoice Status '{status}' is not valid for a new invoice."]
        )
    old = existing["Status"]
    if status in _NEXT_STATUS.get(old, set()):
        return []
    # Xero's allowed moves (its support, quoted in waynerobinson/xeroizer#48): DRAFT→SUBMITTED/AUTHORISED/
    # DELETED, SUBMITTED→DRAFT/AUTHORISED/DELETED, AUTHORISED→VOIDED. Any other move is answered
    # "Invoice not of valid status for modification" (Xero's API team, XeroAPI/Xero-NetStandard#79).
    return [NOT_MODIFIABLE]


def _type_problems(merged: dict[str, Any]) -> list[str]:
    if merged.get("Type") in ("ACCREC", "ACCPAY"):
        return []
    if not merged.get("Type"):
        return ["Invoice Type must be specified."]
    return [f"Invoice Type '{merged['Type']}' cannot be used on the Invoices endpoint."]


def _date_problems(ctx: WriteContext, merged: dict[str, Any]) -> list[str]:
    errors = []
    for field in ("Date", "DueDate", "ExpectedPaymentDate", "PlannedPaymentDate"):
        value = merged.get(field)
        if isinstance(value, str):
            day = parse_day(value)
            if day is None:
                errors.append(f"{field} '{value}' is not a valid date.")
            merged[field] = day
    if merged.get("Date") is None:
        merged["Date"] = ctx.now.date()  # Xero defaults to today (in the organisation's time zone)
    return errors


def _currency_and_theme_problems(org: Org, merged: dict[str, Any]) -> list[str]:
    errors = []
    code = merged.setdefault("CurrencyCode", org.organisation["BaseCurrency"])
    if not _CURRENCY.match(code) or not org.currency_enabled(code):
        errors.append(f"Organisation is not subscribed to currency {code}")
    merged.setdefault("CurrencyRate", Decimal(1))
    theme = merged.get("BrandingThemeID")
    if theme and org.branding_theme(theme) is None:
        errors.append(f"Branding theme with BrandingThemeID {theme} could not be found.")
    return errors


def _number_problems(org: Org, merged: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    if merged["Type"] != "ACCREC":
        return []
    number = merged.get("InvoiceNumber")
    if number and org.invoice_numbered(number, other_than=existing["InvoiceID"] if existing else ""):
        return ["Invoice # must be unique."]
    return []


def _save(
    ctx: WriteContext,
    merged: dict[str, Any],
    existing: dict[str, Any] | None,
    pending_contact: dict[str, Any] | None,
) -> dict[str, Any]:
    org = ctx.org
    if pending_contact is not None:
        contacts.save_contact(
            ctx,
            pending_contact
            | {
                "Addresses": [],
                "Phones": [],
                "IsSupplier": False,
                "IsCustomer": False,
                "HasAttachments": False,
                "HasValidationErrors": False,
            },
            None,
        )
    if merged["Type"] == "ACCREC" and not merged.get("InvoiceNumber"):
        merged["InvoiceNumber"] = org.next_invoice_number()
    merged.setdefault("InvoiceID", str(uuid.uuid4()))
    merged.setdefault("Payments", [])
    paid = merged.get("AmountPaid", ZERO)
    merged.update(invoice_totals(merged["LineItems"], merged["LineAmountTypes"], paid))
    merged.update(
        {
            "UpdatedDateUTC": ctx.now,
            "HasAttachments": False,
            "HasErrors": False,
            "SentToContact": merged.get("SentToContact", False),
            "AmountCredited": ZERO,
            "Prepayments": [],
            "Overpayments": [],
            "CreditNotes": [],
        }
    )
    if merged["Status"] in ("DRAFT", "SUBMITTED", "DELETED"):
        merged["AmountDue"] = merged["Total"]
    if merged["Status"] == "VOIDED":
        merged["AmountDue"] = ZERO
    contact = org.contacts[merged["_contact_id"]]
    contact["IsCustomer" if merged["Type"] == "ACCREC" else "IsSupplier"] = True
    org.invoices[merged["InvoiceID"]] = merged
    ctx.events.append(("INVOICE", "UPDATE" if existing else "CREATE", merged["InvoiceID"]))
    return merged


def render_invoice(org: Org, invoice: dict[str, Any], with_lines: bool = True) -> dict[str, Any]:
    out = render(invoice)
    out["Contact"] = render(contacts.summary(org.contacts[invoice["_contact_id"]]))
    if not with_lines:
        out.pop("LineItems", None)
    return out
