"""The invoice's Dynamics customer → Xero Contact payload."""

from __future__ import annotations

import pytest

from shared.sync.mapping_contact import ContactPlan, map_contact
from tests.unit.mapping_fixtures import ACCOUNT_ID, invoice_document

CONTACT_ID = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"


def test_an_account_customer() -> None:
    plan = map_contact(invoice_document())
    address = {
        "AddressLine1": "12 Totara Street",
        "AddressLine2": "Unit 4",
        "City": "Auckland",
        "Region": "Auckland",
        "PostalCode": "1010",
        "Country": "New Zealand",
    }
    assert plan == ContactPlan(
        customer_table="account",
        customer_id=ACCOUNT_ID,
        xero_contact_id=None,
        payload={
            "Name": "Kauri Timber Ltd",
            "ContactNumber": "KAURI-001",
            "EmailAddress": "accounts@kauri.example",
            "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 555 0101"}],
            "Addresses": [{"AddressType": "POBOX", **address}, {"AddressType": "STREET", **address}],
        },
    )


def test_a_contact_customer_has_first_and_last_names_and_its_id_as_number() -> None:
    doc = invoice_document()
    doc["_customerid_value"] = CONTACT_ID
    doc["_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] = "contact"
    doc["customerid_account"] = None
    doc["customerid_contact"] = {
        "contactid": CONTACT_ID,
        "fullname": "Aroha Ngata",
        "firstname": "Aroha",
        "lastname": "Ngata",
        "emailaddress1": None,
        "mobilephone": "021 555 0199",
        "dxc_xerocontactid": "5b3c2d1e-0f9a-4b8c-9d7e-6f5a4b3c2d1e",
    }
    plan = map_contact(doc)
    assert (plan.customer_table, plan.customer_id) == ("contact", CONTACT_ID)
    assert plan.xero_contact_id == "5b3c2d1e-0f9a-4b8c-9d7e-6f5a4b3c2d1e"
    assert plan.payload == {
        "Name": "Aroha Ngata",
        "ContactNumber": CONTACT_ID,
        "FirstName": "Aroha",
        "LastName": "Ngata",
        "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "021 555 0199"}],
    }


def test_long_values_are_cut_to_xeros_limits() -> None:
    doc = invoice_document()
    doc["customerid_account"].update(name="N" * 300, accountnumber="A" * 51)
    payload = map_contact(doc).payload
    assert payload["Name"] == "N" * 255
    assert payload["ContactNumber"] == ACCOUNT_ID  # an account number over 50 characters is not used


def test_a_customer_known_only_by_its_lookup() -> None:
    doc = invoice_document()
    doc["customerid_account"] = None
    plan = map_contact(doc)
    assert plan.customer_id == ACCOUNT_ID
    assert plan.payload == {"Name": f"Dynamics account {ACCOUNT_ID}", "ContactNumber": ACCOUNT_ID}


def test_no_customer_is_an_error() -> None:
    doc = invoice_document()
    doc.update(_customerid_value=None, customerid_account=None, customerid_contact=None)
    with pytest.raises(ValueError, match="no customer"):
        map_contact(doc)
