"""Type-checks and normalises request bodies the way Xero's JSON reader does: lenient where Json.NET is
(numeric strings become numbers, numbers become strings), strict where it is not (an object where a
number belongs, a word where a GUID belongs) - those become 400 PostDataInvalidException.
Unknown fields are dropped, as Xero ignores them; readOnly fields are dropped too (Xero recalculates
totals, payments and timestamps itself and ignores what the client sent)."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

S, N, B, G = "System.String", "System.Decimal", "System.Boolean", "System.Guid"
INT = "System.Int32"


class Enum(tuple[str, ...]):
    """A .NET enum: any casing is read, anything else fails conversion (like Json.NET)."""

    name: str = "Enum"


def enum(name: str, *values: str) -> Enum:
    kind = Enum(values)
    kind.name = name
    return kind


INVOICE_TYPES = enum(
    "InvoiceType",
    "ACCPAY",
    "ACCPAYCREDIT",
    "APOVERPAYMENT",
    "APPREPAYMENT",
    "ACCREC",
    "ACCRECCREDIT",
    "AROVERPAYMENT",
    "ARPREPAYMENT",
)
INVOICE_STATUSES = enum("InvoiceStatus", "DRAFT", "SUBMITTED", "DELETED", "AUTHORISED", "PAID", "VOIDED")
LINE_AMOUNT_TYPES = enum("LineAmountTypes", "Exclusive", "Inclusive", "NoTax")
CONTACT_STATUSES = enum("ContactStatus", "ACTIVE", "ARCHIVED", "GDPRREQUEST")
ADDRESS_TYPES = enum("AddressType", "POBOX", "STREET")
PHONE_TYPES = enum("PhoneType", "DEFAULT", "DDI", "MOBILE", "FAX", "OFFICE")

TRACKING: dict[str, Any] = {"TrackingCategoryID": G, "TrackingOptionID": G, "Name": S, "Option": S}
LINE_ITEM: dict[str, Any] = {
    "LineItemID": G,
    "Description": S,
    "Quantity": N,
    "UnitAmount": N,
    "ItemCode": S,
    "AccountCode": S,
    "AccountID": G,
    "TaxType": S,
    "TaxAmount": N,
    "LineAmount": N,
    "DiscountRate": N,
    "DiscountAmount": N,
    "Tracking": [TRACKING],
}
ADDRESS: dict[str, Any] = {"AddressType": ADDRESS_TYPES} | {
    k: S
    for k in (
        "AddressLine1",
        "AddressLine2",
        "AddressLine3",
        "AddressLine4",
        "City",
        "Region",
        "PostalCode",
        "Country",
        "AttentionTo",
    )
}
PHONE: dict[str, Any] = {"PhoneType": PHONE_TYPES} | {
    k: S for k in ("PhoneNumber", "PhoneAreaCode", "PhoneCountryCode")
}
PAYMENT_TERM_TYPES = enum(
    "PaymentTermType", "DAYSAFTERBILLDATE", "DAYSAFTERBILLMONTH", "OFCURRENTMONTH", "OFFOLLOWINGMONTH"
)
TERM: dict[str, Any] = {"Day": INT, "Type": PAYMENT_TERM_TYPES}
CONTACT: dict[str, Any] = {
    "ContactID": G,
    "ContactNumber": S,
    "AccountNumber": S,
    "ContactStatus": CONTACT_STATUSES,
    "Name": S,
    "FirstName": S,
    "LastName": S,
    "CompanyNumber": S,
    "EmailAddress": S,
    "BankAccountDetails": S,
    "TaxNumber": S,
    "AccountsReceivableTaxType": S,
    "AccountsPayableTaxType": S,
    "Addresses": [ADDRESS],
    "Phones": [PHONE],
    "DefaultCurrency": S,
    "SalesDefaultAccountCode": S,
    "PurchasesDefaultAccountCode": S,
    "XeroNetworkKey": S,
    "PaymentTerms": {"Sales": TERM, "Bills": TERM},
}
INVOICE: dict[str, Any] = {
    "Type": INVOICE_TYPES,
    "Contact": CONTACT,
    "LineItems": [LINE_ITEM],
    "Date": S,
    "DueDate": S,
    "LineAmountTypes": LINE_AMOUNT_TYPES,
    "InvoiceNumber": S,
    "Reference": S,
    "BrandingThemeID": G,
    "Url": S,
    "CurrencyCode": S,
    "CurrencyRate": N,
    "Status": INVOICE_STATUSES,
    "SentToContact": B,
    "ExpectedPaymentDate": S,
    "PlannedPaymentDate": S,
    "InvoiceID": G,
}
DETAILS: dict[str, Any] = {"UnitPrice": N, "AccountCode": S, "COGSAccountCode": S, "TaxType": S}
ITEM: dict[str, Any] = {
    "ItemID": G,
    "Code": S,
    "Name": S,
    "Description": S,
    "PurchaseDescription": S,
    "IsSold": B,
    "IsPurchased": B,
    "IsTrackedAsInventory": B,
    "InventoryAssetAccountCode": S,
    "SalesDetails": DETAILS,
    "PurchaseDetails": DETAILS,
}
SCHEMAS = {"Invoices": INVOICE, "Contacts": CONTACT, "Items": ITEM}


class PostDataInvalid(Exception):
    pass


def elements_of(collection: str, body: Any) -> list[dict[str, Any]]:
    """The elements of `{"Invoices": [...]}` (or one bare element, which Xero also takes), normalised."""
    if isinstance(body, dict) and collection in body:
        raw = body[collection]
        if not isinstance(raw, list):
            raise PostDataInvalid(_conversion(raw, f"List`1[{collection[:-1]}]", collection))
    elif isinstance(body, dict):
        raw = [body]
    else:
        raise PostDataInvalid(f"Unexpected JSON token when reading {collection}. Path '', line 1.")
    return [_object(elem, SCHEMAS[collection], f"{collection}[{i}]") for i, elem in enumerate(raw)]


def _object(value: Any, schema: dict[str, Any], path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PostDataInvalid(_conversion(value, "object", path))
    clean: dict[str, Any] = {}
    for key, raw in value.items():
        kind = schema.get(key)
        if kind is None or raw is None:
            continue
        clean[key] = _convert(raw, kind, f"{path}.{key}")
    return clean


def _convert(raw: Any, kind: Any, path: str) -> Any:
    if isinstance(kind, dict):
        return _object(raw, kind, path)
    if isinstance(kind, Enum):
        text = _as_string(raw) if not isinstance(raw, dict | list) else ""
        found = next((v for v in kind if v.lower() == text.lower()), None)
        if found is None:
            raise PostDataInvalid(_conversion(raw, kind.name, path))
        return found
    if isinstance(kind, list):
        if not isinstance(raw, list):
            raise PostDataInvalid(_conversion(raw, "List", path))
        return [_convert(v, kind[0], f"{path}[{i}]") for i, v in enumerate(raw)]
    if isinstance(raw, dict | list):
        raise PostDataInvalid(_conversion(raw, kind, path))
    if kind == S:
        return _as_string(raw)
    if kind == N:
        return _as_decimal(raw, path)
    if kind == INT:
        number = _as_decimal(raw, path)
        if number != number.to_integral_value():
            raise PostDataInvalid(_conversion(raw, INT, path))
        return int(number)
    if kind == B:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise PostDataInvalid(_conversion(raw, B, path))
    try:
        return str(uuid.UUID(str(raw)))
    except ValueError:
        raise PostDataInvalid(_conversion(raw, G, path)) from None


def _as_string(raw: Any) -> str:
    if isinstance(raw, bool):
        return "True" if raw else "False"
    return str(raw)


def _as_decimal(raw: Any, path: str) -> Decimal:
    if isinstance(raw, bool):
        raise PostDataInvalid(_conversion(raw, N, path))
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise PostDataInvalid(_conversion(raw, N, path)) from None
    if not value.is_finite():
        raise PostDataInvalid(_conversion(raw, N, path))
    return value


def _conversion(raw: Any, kind: str, path: str) -> str:
    shown = raw if isinstance(raw, str | int | float) else type(raw).__name__
    return f"Error converting value \"{shown}\" to type '{kind}'. Path '{path}'."
