"""The Dynamics customer (account or contact) of an invoice as a Xero Contact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.dataverse import schema
from shared.sync.mapping_common import clip, text

_LOOKUP_TABLE = "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"
_ADDRESS_FIELDS = (
    ("AddressLine1", "address1_line1", 500),
    ("AddressLine2", "address1_line2", 500),
    ("AddressLine3", "address1_line3", 500),
    ("City", "address1_city", 255),
    ("Region", "address1_stateorprovince", 255),
    ("PostalCode", "address1_postalcode", 50),
    ("Country", "address1_country", 50),
)


@dataclass(frozen=True)
class ContactPlan:
    customer_table: str  # "account" or "contact"
    customer_id: str
    xero_contact_id: str | None  # already stored on the customer by an earlier push
    payload: dict[str, Any]


def customer_of(doc: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """(table, id, expanded row) of the invoice's customer, or None when it has none."""
    for table in ("account", "contact"):
        row = doc.get(f"customerid_{table}")
        if isinstance(row, dict) and text(row.get(f"{table}id")):
            return table, text(row.get(f"{table}id")).lower(), row
    customer_id = text(doc.get("_customerid_value"))
    if not customer_id:
        return None
    table = text(doc.get(_LOOKUP_TABLE)) or "account"
    return table, customer_id.lower(), {}


def map_contact(doc: dict[str, Any]) -> ContactPlan:
    found = customer_of(doc)
    if found is None:
        raise ValueError("the invoice has no customer")  # eligibility rules this out first
    table, customer_id, row = found
    payload: dict[str, Any] = {
        "Name": _name(table, customer_id, row),
        # The ContactNumber is how a retry finds the contact it created: the account number when there is
        # one that fits, otherwise the Dynamics id (36 characters, within the limit of 50).
        "ContactNumber": _contact_number(table, customer_id, row),
    }
    if table == "contact":
        payload.update(
            _present(FirstName=clip(row.get("firstname"), 255), LastName=clip(row.get("lastname"), 255))
        )
    payload.update(_present(EmailAddress=clip(row.get("emailaddress1"), 255)))
    phones = _phones(table, row)
    if phones:
        payload["Phones"] = phones
    addresses = _addresses(row)
    if addresses:
        payload["Addresses"] = addresses
    stored = text(row.get(schema.CUSTOMER_XERO_CONTACT_ID)) or None
    return ContactPlan(customer_table=table, customer_id=customer_id, xero_contact_id=stored, payload=payload)


def _name(table: str, customer_id: str, row: dict[str, Any]) -> str:
    if table == "contact":
        joined = f"{text(row.get('firstname'))} {text(row.get('lastname'))}"
        name = clip(row.get("fullname"), 255) or clip(joined, 255)
    else:
        name = clip(row.get("name"), 255)
    # Xero requires a name; a nameless Dynamics row still gets a unique, recognisable one.
    return name or f"Dynamics {table} {customer_id}"


def _contact_number(table: str, customer_id: str, row: dict[str, Any]) -> str:
    number = text(row.get("accountnumber")) if table == "account" else ""
    return number if 0 < len(number) <= 50 else customer_id


def _phones(table: str, row: dict[str, Any]) -> list[dict[str, str]]:
    phones = [("DEFAULT", row.get("telephone1"))]
    if table == "contact":
        phones.append(("MOBILE", row.get("mobilephone")))
    return [
        {"PhoneType": kind, "PhoneNumber": clip(number, 50)} for kind, number in phones if clip(number, 50)
    ]


def _addresses(row: dict[str, Any]) -> list[dict[str, str]]:
    address = _present(**{xero: clip(row.get(column), limit) for xero, column, limit in _ADDRESS_FIELDS})
    if not address:
        return []
    # Xero prints the POBOX address on invoices and uses STREET as the physical one: Dynamics has one.
    return [{"AddressType": kind, **address} for kind in ("POBOX", "STREET")]


def _present(**fields: str) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value}
