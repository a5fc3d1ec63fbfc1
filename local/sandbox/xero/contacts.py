"""Contacts: create (PUT), create-or-update (POST, matched by ContactID or ContactNumber)."""

from __future__ import annotations

import uuid
from typing import Any

from local.sandbox.xero.orgs import Org
from local.sandbox.xero.rules import WriteContext, email_problem, too_long
from local.sandbox.xero.wire import render

MAX_LENGTHS = {
    "Name": 255,
    "ContactNumber": 50,
    "AccountNumber": 50,
    "FirstName": 255,
    "LastName": 255,
    "EmailAddress": 255,
    "CompanyNumber": 50,
    "TaxNumber": 50,
}
_DEFAULTS: dict[str, Any] = {
    "ContactStatus": "ACTIVE",
    "Addresses": [],
    "Phones": [],
    "ContactGroups": [],
    "ContactPersons": [],
    "IsSupplier": False,
    "IsCustomer": False,
    "HasAttachments": False,
    "HasValidationErrors": False,
}


def duplicate_name(name: str) -> str:
    return (
        f"The contact name {name} is already assigned to another contact. The contact name must be "
        "unique across all active contacts."
    )


def find_existing(
    org: Org, data: dict[str, Any], method: str, url_id: str | None
) -> tuple[dict[str, Any] | None, list[str]]:
    if url_id:
        return org.contacts.get(url_id) or org.contact_numbered(url_id), []
    if method == "POST" and data.get("ContactID"):
        found = org.contacts.get(data["ContactID"])
        return found, [] if found else [
            "An existing Contact with the specified ContactID could not be found."
        ]
    if method == "POST" and data.get("ContactNumber"):
        return org.contact_numbered(data["ContactNumber"]), []
    return None, []


def upsert_contact(
    ctx: WriteContext, data: dict[str, Any], method: str, url_id: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Returns (the stored contact, []) or (the element echoed back, validation messages)."""
    existing, errors = find_existing(ctx.org, data, method, url_id)
    if errors:
        return render(data), errors
    merged = dict(existing or _DEFAULTS) | data
    if existing is None:
        merged.pop("ContactID", None)  # a new contact's ID is Xero's to choose
    errors = contact_problems(ctx.org, merged, existing)
    if errors:
        return render(merged), errors
    return render(save_contact(ctx, merged, existing)), []


def contact_problems(org: Org, merged: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    errors = too_long(merged, MAX_LENGTHS) + email_problem(merged.get("EmailAddress"))
    name = (merged.get("Name") or "").strip()
    if not name:
        errors.append("A contact name must be specified.")
    elif merged["ContactStatus"] == "ACTIVE" and org.active_contact_named(
        name, other_than=existing["ContactID"] if existing else ""
    ):
        errors.append(duplicate_name(name))
    errors += _number_taken(org, merged, existing)
    if merged["ContactStatus"] == "GDPRREQUEST":
        errors.append("Contact status GDPRREQUEST cannot be set through the API.")
    return errors


def _number_taken(org: Org, merged: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    """AccountNumber is unique: "The Account Number already exists. Please enter a different Account
    Number." (calcinai/xero-php#880). ContactNumber identifies a contact for external systems and POST
    /Contacts matches on it, so a PUT with one already used is refused too (unverified wording)."""
    mine = existing["ContactID"] if existing else ""
    errors = []
    number = str(merged.get("ContactNumber") or "")
    if number and any(
        c.get("ContactNumber") == number and c["ContactID"] != mine for c in org.contacts.values()
    ):
        errors.append(f"The contact number {number} is already assigned to another contact.")
    account = str(merged.get("AccountNumber") or "")
    if account and any(
        c.get("AccountNumber") == account and c["ContactID"] != mine for c in org.contacts.values()
    ):
        errors.append("The Account Number already exists. Please enter a different Account Number.")
    return errors


def save_contact(
    ctx: WriteContext, merged: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    merged["ContactID"] = existing["ContactID"] if existing else merged.get("ContactID") or str(uuid.uuid4())
    merged["UpdatedDateUTC"] = ctx.now
    ctx.org.contacts[merged["ContactID"]] = merged
    ctx.events.append(("CONTACT", "UPDATE" if existing else "CREATE", merged["ContactID"]))
    return merged


def summary(contact: dict[str, Any]) -> dict[str, Any]:
    """The contact as Xero embeds it in an invoice."""
    keys = (
        "ContactID",
        "ContactNumber",
        "AccountNumber",
        "ContactStatus",
        "Name",
        "FirstName",
        "LastName",
        "EmailAddress",
        "Addresses",
        "Phones",
        "UpdatedDateUTC",
        "IsSupplier",
        "IsCustomer",
        "HasAttachments",
        "HasValidationErrors",
    )
    return {k: contact[k] for k in keys if k in contact}
