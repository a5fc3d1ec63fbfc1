"""Which contact an invoice is for: by ContactID, by ContactNumber, or by Name - and a Name that matches
no contact creates one when the invoice is saved, as Xero does."""

from __future__ import annotations

import uuid
from typing import Any

from local.sandbox.xero import contacts
from local.sandbox.xero.orgs import Org
from local.sandbox.xero.rules import too_long


def resolve_contact(
    org: Org, wanted: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[str]]:
    """(contact, contact to create when the invoice is saved, errors). Name alone finds or creates."""
    if not wanted:
        return None, None, ["A Contact must be specified for this type of transaction."]
    found: dict[str, Any] | None = None
    if wanted.get("ContactID"):
        found = org.contacts.get(wanted["ContactID"])
        if found is None:
            return None, None, [f"Contact with ContactID {wanted['ContactID']} could not be found."]
    elif wanted.get("ContactNumber"):
        found = org.contact_numbered(wanted["ContactNumber"])
        if found is None and not wanted.get("Name"):
            return None, None, [f"Contact with ContactNumber {wanted['ContactNumber']} could not be found."]
    if found is None and wanted.get("Name"):
        name = wanted["Name"].strip()
        found = org.active_contact_named(name) or next(
            (c for c in org.contacts.values() if c["Name"].strip().lower() == name.lower()), None
        )
        if found is None:
            new = dict(wanted) | {"ContactID": str(uuid.uuid4()), "ContactStatus": "ACTIVE"}
            problems = too_long(new, contacts.MAX_LENGTHS)
            return (None, None, problems) if problems else (new, new, [])
    if found is None:
        return None, None, ["A Contact must be specified for this type of transaction."]
    if found["ContactStatus"] != "ACTIVE":
        return (
            found,
            None,
            [f"The contact '{found['Name']}' is archived. Archived contacts cannot be used on transactions."],
        )
    return found, None, []
