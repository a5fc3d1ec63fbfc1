"""GET filters, paging and If-Modified-Since."""

from __future__ import annotations

from email.utils import format_datetime

from local.sandbox.tests.xero.conftest import XeroClient, created, invoice


def _ids(response: object) -> list[str]:
    return [i["InvoiceID"] for i in response.json()["Invoices"]]  # type: ignore[attr-defined]


def test_invoice_filters(xero: XeroClient) -> None:
    draft = created(xero.put("Invoices", {"Invoices": [invoice(contact="Alpha")]}))
    approved = created(xero.put("Invoices", {"Invoices": [invoice(contact="Beta", status="AUTHORISED")]}))
    assert _ids(xero.get("Invoices", params={"Statuses": "AUTHORISED"})) == [approved["InvoiceID"]]
    assert _ids(xero.get("Invoices", params={"where": 'Status=="DRAFT"'})) == [draft["InvoiceID"]]
    assert _ids(xero.get("Invoices", params={"InvoiceNumbers": approved["InvoiceNumber"]})) == [
        approved["InvoiceID"]
    ]
    assert _ids(xero.get("Invoices", params={"IDs": draft["InvoiceID"]})) == [draft["InvoiceID"]]
    by_contact = xero.get("Invoices", params={"ContactIDs": approved["Contact"]["ContactID"]})
    assert _ids(by_contact) == [approved["InvoiceID"]]
    both = xero.get("Invoices", params={"where": 'Status=="DRAFT" AND Contact.Name=="Alpha"'})
    assert _ids(both) == [draft["InvoiceID"]]
    assert "LineItems" not in xero.get("Invoices").json()["Invoices"][0]  # like Xero without paging
    assert xero.get("Invoices", params={"where": "Total > 3"}).status_code == 400


def test_contact_and_item_filters_and_archived_contacts(xero: XeroClient) -> None:
    xero.put(
        "Contacts",
        {"Contacts": [{"Name": "Kept", "ContactNumber": "K1"}, {"Name": "Old", "ContactNumber": "O1"}]},
    )
    old = xero.get("Contacts", params={"where": 'Name=="Old"'}).json()["Contacts"][0]
    xero.sandbox.state.patch_record(
        xero.tenant_id, "Contacts", old["ContactID"], {"ContactStatus": "ARCHIVED"}
    )
    assert [c["Name"] for c in xero.get("Contacts").json()["Contacts"]] == ["Kept"]
    assert len(xero.get("Contacts", params={"includeArchived": "true"}).json()["Contacts"]) == 2
    assert (
        xero.get("Contacts", params={"where": 'ContactNumber=="K1"'}).json()["Contacts"][0]["Name"] == "Kept"
    )
    xero.put("Items", {"Items": [{"Code": "A1"}, {"Code": "B2"}]})
    assert [i["Code"] for i in xero.get("Items", params={"where": 'Code=="B2"'}).json()["Items"]] == ["B2"]
    assert xero.get("Contacts/K1").json()["Contacts"][0]["Name"] == "Kept"


def test_pages_hold_one_hundred(xero: XeroClient) -> None:
    xero.put("Contacts", {"Contacts": [{"Name": f"Contact {n:03d}"} for n in range(130)]})
    first = xero.get("Contacts", params={"page": 1}).json()
    second = xero.get("Contacts", params={"page": 2}).json()
    assert (len(first["Contacts"]), len(second["Contacts"])) == (100, 30)
    assert first["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 2, "itemCount": 130}


def test_if_modified_since_returns_only_later_changes(xero: XeroClient) -> None:
    created(xero.put("Invoices", {"Invoices": [invoice()]}))
    xero.sandbox.state.clock.advance(120)
    since = format_datetime(xero.sandbox.state.clock.now_dt(), usegmt=True)
    xero.sandbox.state.clock.advance(60)
    later = created(xero.put("Invoices", {"Invoices": [invoice()]}))
    response = xero.get("Invoices", headers={"If-Modified-Since": since})
    assert _ids(response) == [later["InvoiceID"]]


def test_items_are_not_paged(xero: XeroClient) -> None:
    # GET /Items has no page parameter in Xero's spec: every item comes at once, a page number is ignored
    items = [{"Code": f"P-{n:03d}", "Name": f"Part {n}"} for n in range(105)]
    assert xero.put("Items", {"Items": items}).status_code == 200
    for params in ({}, {"page": 1}, {"page": 2}):
        answer = xero.get("Items", params=params).json()
        assert len(answer["Items"]) == 105 and "pagination" not in answer
