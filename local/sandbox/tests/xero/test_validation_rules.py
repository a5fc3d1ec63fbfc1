"""The rules that bite real users, each answered as a ValidationError in Xero's wording."""

from __future__ import annotations

import pytest

from local.sandbox.tests.xero.conftest import XeroClient, created, invoice, messages


def test_contact_names_are_unique_among_active_contacts_only(xero: XeroClient) -> None:
    first = created(xero.put("Contacts", {"Contacts": [{"Name": "Bayside Club"}]}), "Contacts")
    duplicate = xero.put("Contacts", {"Contacts": [{"Name": "bayside club"}]})
    assert duplicate.status_code == 400
    assert messages(duplicate) == [
        "The contact name bayside club is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    ]
    xero.sandbox.state.patch_record(
        xero.tenant_id, "Contacts", first["ContactID"], {"ContactStatus": "ARCHIVED"}
    )
    assert xero.put("Contacts", {"Contacts": [{"Name": "Bayside Club"}]}).status_code == 200


def test_contact_field_lengths_and_required_name(xero: XeroClient) -> None:
    too_long = xero.put(
        "Contacts", {"Contacts": [{"Name": "Long", "ContactNumber": "N" * 51}]}, validate_request=False
    )
    assert messages(too_long) == ["ContactNumber must not be more than 50 characters long."]
    assert messages(xero.put("Contacts", {"Contacts": [{"EmailAddress": "x@y.example"}]})) == [
        "A contact name must be specified."
    ]


def test_post_updates_a_contact_found_by_contact_number(xero: XeroClient) -> None:
    made = created(
        xero.put("Contacts", {"Contacts": [{"Name": "Numbered", "ContactNumber": "D365-9"}]}), "Contacts"
    )
    again = created(
        xero.post("Contacts", {"Contacts": [{"ContactNumber": "D365-9", "Name": "Renamed"}]}), "Contacts"
    )
    assert again["ContactID"] == made["ContactID"] and again["Name"] == "Renamed"


def test_items_need_a_short_unique_code_and_a_short_name(xero: XeroClient) -> None:
    created(xero.put("Items", {"Items": [{"Code": "WIDGET", "Name": "Widget"}]}), "Items")
    assert messages(xero.put("Items", {"Items": [{"Code": "widget"}]})) == [
        "Item code 'widget' already exists."
    ]
    assert messages(xero.put("Items", {"Items": [{"Code": "C" * 31}]}, validate_request=False)) == [
        "Code must not be more than 30 characters long."
    ]
    assert messages(
        xero.put("Items", {"Items": [{"Code": "OK", "Name": "N" * 51}]}, validate_request=False)
    ) == ["Name must not be more than 50 characters long."]
    updated = created(xero.post("Items", {"Items": [{"Code": "WIDGET", "Name": "Widget v2"}]}), "Items")
    assert updated["Name"] == "Widget v2" and len(xero.sandbox.state.org(xero.tenant_id).items) == 1


def test_invoice_numbers_are_assigned_in_sequence_and_must_be_unique(xero: XeroClient) -> None:
    first = created(xero.put("Invoices", {"Invoices": [invoice()]}))
    second = created(xero.put("Invoices", {"Invoices": [invoice()]}))
    assert (first["InvoiceNumber"], second["InvoiceNumber"]) == ("INV-0001", "INV-0002")
    clash = xero.put("Invoices", {"Invoices": [invoice(InvoiceNumber="INV-0001")]})
    assert messages(clash) == ["Invoice # must be unique."]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ({"AccountCode": "299"}, "Account code '299' is not a valid code for this document."),
        ({"AccountCode": "999"}, "Account code '999' is not a valid code for this document."),
        ({"TaxType": "INPUT2"}, "The TaxType code 'INPUT2' cannot be used with account code '200'."),
        (
            {"TaxType": "NOPE"},
            "The TaxType code 'NOPE' does not exist or cannot be used for this type of transaction.",
        ),
    ],
)
def test_accounts_must_be_active_and_tax_types_must_fit(
    xero: XeroClient, line: dict[str, str], expected: str
) -> None:
    body = invoice()
    body["LineItems"][0].update(line)
    response = xero.put("Invoices", {"Invoices": [body]})
    assert response.status_code == 400 and messages(response) == [expected]


def test_a_tax_rate_archived_in_xero_is_refused(xero: XeroClient) -> None:
    xero.sandbox.state.patch_record(xero.tenant_id, "TaxRates", "OUTPUT2", {"Status": "ARCHIVED"})
    assert "OUTPUT2" in messages(xero.put("Invoices", {"Invoices": [invoice()]}))[0]


def test_archived_contacts_and_disabled_currencies_are_refused(xero: XeroClient) -> None:
    contact = created(xero.put("Contacts", {"Contacts": [{"Name": "Gone Ltd"}]}), "Contacts")
    xero.sandbox.state.patch_record(
        xero.tenant_id, "Contacts", contact["ContactID"], {"ContactStatus": "ARCHIVED"}
    )
    archived = xero.put(
        "Invoices", {"Invoices": [invoice() | {"Contact": {"ContactID": contact["ContactID"]}}]}
    )
    assert "archived" in messages(archived)[0]
    euro = xero.put("Invoices", {"Invoices": [invoice(CurrencyCode="EUR")]})
    assert messages(euro) == ["Organisation is not subscribed to currency EUR"]
    assert created(xero.put("Invoices", {"Invoices": [invoice(CurrencyCode="USD")]}))["CurrencyCode"] == "USD"


def test_contact_name_alone_finds_or_creates_the_contact(xero: XeroClient) -> None:
    first = created(xero.put("Invoices", {"Invoices": [invoice(contact="Newcomer Ltd")]}))
    second = created(xero.put("Invoices", {"Invoices": [invoice(contact="Newcomer Ltd")]}))
    assert first["Contact"]["ContactID"] == second["Contact"]["ContactID"]
    assert [c["Name"] for c in xero.sandbox.state.records(xero.tenant_id, "Contacts")] == ["Newcomer Ltd"]
    by_number = invoice() | {"Contact": {"ContactNumber": "NOPE-1"}}
    assert "NOPE-1" in messages(xero.put("Invoices", {"Invoices": [by_number]}))[0]


@pytest.mark.parametrize(
    ("amount_types", "sub_total", "tax", "total"),
    [("Exclusive", 200.0, 30.0, 230.0), ("Inclusive", 173.91, 26.09, 200.0), ("NoTax", 200.0, 0.0, 200.0)],
)
def test_totals_follow_line_amount_types(
    xero: XeroClient, amount_types: str, sub_total: float, tax: float, total: float
) -> None:
    made = created(xero.put("Invoices", {"Invoices": [invoice(LineAmountTypes=amount_types)]}))
    assert (made["SubTotal"], made["TotalTax"], made["Total"], made["AmountDue"]) == (
        sub_total,
        tax,
        total,
        total,
    )


def test_discounts_unitdp_and_per_line_tax_rounding(xero: XeroClient) -> None:
    body = invoice()
    body["LineItems"] = [
        {"Description": "a", "Quantity": 3, "UnitAmount": 0.3333, "AccountCode": "200", "DiscountRate": 10},
        {"Description": "b", "Quantity": 1, "UnitAmount": 0.05, "AccountCode": "200"},
    ]
    four = created(xero.put("Invoices", {"Invoices": [body]}, params={"unitdp": 4}))
    assert [li["UnitAmount"] for li in four["LineItems"]] == [0.3333, 0.05]
    assert [li["LineAmount"] for li in four["LineItems"]] == [0.90, 0.05]
    assert [li["TaxAmount"] for li in four["LineItems"]] == [0.14, 0.01]  # rounded per line
    assert (four["SubTotal"], four["TotalTax"], four["Total"]) == (0.95, 0.15, 1.10)
    two = created(xero.put("Invoices", {"Invoices": [body]}))
    assert two["LineItems"][0]["UnitAmount"] == 0.33


def test_summarize_errors_false_keeps_the_good_and_flags_the_bad(xero: XeroClient) -> None:
    response = xero.put(
        "Invoices",
        {"Invoices": [invoice(), invoice(CurrencyCode="EUR")]},
        params={"summarizeErrors": "false"},
    )
    good, bad = response.json()["Invoices"]
    assert (good["HasErrors"], bad["HasErrors"]) == (False, True)
    assert bad["ValidationErrors"] == [{"Message": "Organisation is not subscribed to currency EUR"}]
    assert list(xero.sandbox.state.org(xero.tenant_id).invoices) == [good["InvoiceID"]]


def test_status_moves_forward_only(xero: XeroClient) -> None:
    made = created(xero.put("Invoices", {"Invoices": [invoice()]}))
    path = f"Invoices/{made['InvoiceID']}"
    for status in ("SUBMITTED", "AUTHORISED"):
        assert created(xero.post(path, {"Invoices": [{"Status": status}]}))["Status"] == status
    assert xero.post(path, {"Invoices": [{"Status": "DRAFT"}]}).status_code == 400
    assert xero.post(path, {"Invoices": [{"Status": "DELETED"}]}).status_code == 400
    assert created(xero.post(path, {"Invoices": [{"Status": "VOIDED"}]}))["Status"] == "VOIDED"
    assert messages(xero.post(path, {"Invoices": [{"Status": "AUTHORISED"}]})) == [
        "Invoice not of valid status for modification"
    ]
    draft = created(xero.put("Invoices", {"Invoices": [invoice()]}))
    deleted = created(xero.post(f"Invoices/{draft['InvoiceID']}", {"Invoices": [{"Status": "DELETED"}]}))
    assert deleted["Status"] == "DELETED"
    assert xero.post(f"Invoices/{draft['InvoiceID']}", {"Invoices": [{"Reference": "x"}]}).status_code == 400


def test_paid_and_part_paid_invoices_cannot_be_edited_or_voided(xero: XeroClient) -> None:
    made = created(xero.put("Invoices", {"Invoices": [invoice(status="AUTHORISED")]}))
    state, path = xero.sandbox.state, f"Invoices/{made['InvoiceID']}"
    state.pay_invoice(xero.tenant_id, made["InvoiceID"], 50)
    assert messages(xero.post(path, {"Invoices": [{"Reference": "x"}]})) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."
    ]
    assert "cannot be voided" in messages(xero.post(path, {"Invoices": [{"Status": "VOIDED"}]}))[0]
    state.pay_invoice(xero.tenant_id, made["InvoiceID"])
    paid = created(xero.get(path))
    assert (paid["Status"], paid["AmountPaid"], paid["AmountDue"]) == ("PAID", 230.0, 0.0)
    assert messages(xero.post(path, {"Invoices": [{"Reference": "x"}]})) == [
        "Invoice not of valid status for modification"
    ]


def test_readonly_fields_in_a_request_are_ignored(xero: XeroClient) -> None:
    body = invoice(Total=999, AmountPaid=999, UpdatedDateUTC="/Date(0+0000)/", HasAttachments=True)
    made = created(xero.put("Invoices", {"Invoices": [body]}, validate_request=False))
    assert (made["Total"], made["AmountPaid"], made["HasAttachments"]) == (230.0, 0.0, False)
    assert made["UpdatedDateUTC"] != "/Date(0+0000)/"


def test_a_batch_of_fifty_answers_each_element_in_order_with_its_own_errors(xero: XeroClient) -> None:
    """What the backfill relies on (shared/backfill/page.py): a PUT of 50 with summarizeErrors=false is
    answered 200 with one element per input, in order (xero_accounting.yaml, parameter summarizeErrors:
    "If false return 200 OK and mix of successfully created objects and any with validation errors");
    each refused one carries its own ValidationErrors, the others are created. Unverified whether Xero
    checks numbers within one batch against each other: the sandbox does, as if they came one by one."""
    taken = created(xero.put("Invoices", {"Invoices": [invoice(InvoiceNumber="BATCH-TAKEN")]}))
    gone = created(xero.put("Contacts", {"Contacts": [{"Name": "Batch Gone Ltd"}]}), "Contacts")
    xero.sandbox.state.patch_record(
        xero.tenant_id, "Contacts", gone["ContactID"], {"ContactStatus": "ARCHIVED"}
    )
    batch = [invoice(InvoiceNumber=f"BATCH-{n:02d}") for n in range(50)]
    batch[3]["InvoiceNumber"] = taken["InvoiceNumber"]  # someone else's number
    batch[7]["InvoiceNumber"] = batch[6]["InvoiceNumber"]  # twice in one batch
    batch[9]["Contact"] = {"ContactID": gone["ContactID"]}  # archived
    before = len(xero.sandbox.state.org(xero.tenant_id).invoices)

    answer = xero.put("Invoices", {"Invoices": batch}, params={"summarizeErrors": "false"})

    assert answer.status_code == 200
    elements = answer.json()["Invoices"]
    assert [e["HasErrors"] for e in elements] == [n in (3, 7, 9) for n in range(50)]
    assert "must be unique" in elements[3]["ValidationErrors"][0]["Message"]
    assert "must be unique" in elements[7]["ValidationErrors"][0]["Message"]
    assert "archived" in elements[9]["ValidationErrors"][0]["Message"]
    assert [e["InvoiceNumber"] for e in elements if not e["HasErrors"]] == [
        b["InvoiceNumber"] for n, b in enumerate(batch) if n not in (3, 7, 9)
    ]
    assert len(xero.sandbox.state.org(xero.tenant_id).invoices) == before + 47


def test_a_batch_of_contacts_marks_a_taken_name_on_its_own_element(xero: XeroClient) -> None:
    """PUT /Contacts of several, summarizeErrors=false: a refused Contact says HasValidationErrors with a
    zero ContactID (the spec's duplicate-name example of PUT /Contacts), the others are created."""
    created(xero.put("Contacts", {"Contacts": [{"Name": "Batch Taken Ltd"}]}), "Contacts")
    names = ["Batch New One", "batch taken ltd", "Batch New Two"]
    answer = xero.put(
        "Contacts", {"Contacts": [{"Name": n} for n in names]}, params={"summarizeErrors": "false"}
    )
    assert answer.status_code == 200
    first, taken, second = answer.json()["Contacts"]
    assert taken["HasValidationErrors"] is True
    assert taken["ContactID"] == "00000000-0000-0000-0000-000000000000"
    assert "already assigned" in taken["ValidationErrors"][0]["Message"]
    assert not first.get("HasValidationErrors") and not second.get("HasValidationErrors")
    assert (first["Name"], second["Name"]) == ("Batch New One", "Batch New Two")
