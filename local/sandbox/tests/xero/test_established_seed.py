"""The "established" seed: the NZ demo organisation as a business that has used Xero for years (what
`make run` and the push benchmark meet). Read through the API like the connector would; every answer is
also held to the spec and the SDK by the end-of-run contract check."""

from __future__ import annotations

from openapi_core import OpenAPI

from local.sandbox.tests.xero.conftest import NZ, XeroClient
from local.sandbox.xero import XeroSandbox
from local.sandbox.xero.history import ITEM_CODE_AT_LIMIT


def established(sandbox: XeroSandbox, answer_spec: OpenAPI | None) -> XeroClient:
    sandbox.state.reset()
    sandbox.state.seed("established")
    return XeroClient(sandbox, answer_spec, NZ, sandbox.state.issue_tokens())


def test_years_of_contacts_with_the_dynamics_customers_among_them(
    sandbox: XeroSandbox, answer_spec: OpenAPI | None
) -> None:
    xero = established(sandbox, answer_spec)
    active, page = [], 1
    while batch := xero.get("Contacts", params={"page": page}).json()["Contacts"]:
        active += batch
        page += 1
    everyone = xero.get("Contacts", params={"includeArchived": "true"}).json()["Contacts"]
    assert len(active) > 250 and len(everyone) - len(active) >= 30  # archived ones are hidden by default
    names = {c["Name"] for c in everyone}
    assert {"FABRIKAM LTD", "O'Brien & Sons", "Northwind Traders", "Jo Mueller", "sam lee"} <= names
    # Xero compares == exactly; the connector's lowered comparison finds the capitalised customer
    assert xero.get("Contacts", params={"where": 'Name=="Fabrikam Ltd"'}).json()["Contacts"] == []
    [fabrikam] = xero.get("Contacts", params={"where": 'Name.ToLower()=="fabrikam ltd"'}).json()["Contacts"]
    assert fabrikam["ContactNumber"] == "FAB-001"
    terms = [c for c in everyone if c.get("PaymentTerms", {}).get("Sales")]
    assert len(terms) > 30


def test_invoices_items_and_terms_of_a_long_used_organisation(
    sandbox: XeroSandbox, answer_spec: OpenAPI | None
) -> None:
    xero = established(sandbox, answer_spec)
    invoices = xero.get("Invoices").json()["Invoices"]
    assert len(invoices) >= 250
    assert {"AUTHORISED", "PAID", "VOIDED", "DRAFT"} <= {i["Status"] for i in invoices}
    assert len({i["CurrencyCode"] for i in invoices}) >= 3
    # numbers Dynamics also uses are taken, by customers that are not the Dynamics ones
    [first] = xero.get("Invoices", params={"InvoiceNumbers": "INV-00001"}).json()["Invoices"]
    assert first["Contact"]["Name"] not in ("Fabrikam Ltd", "FABRIKAM LTD")
    items = xero.get("Items", params={"unitdp": 4}).json()["Items"]
    prices = [i["SalesDetails"]["UnitPrice"] for i in items if i["SalesDetails"].get("UnitPrice")]
    assert any(round(p, 2) != p for p in prices)  # four decimal places, as Xero keeps them with unitdp=4
    assert ITEM_CODE_AT_LIMIT in {i["Code"] for i in items} and len(ITEM_CODE_AT_LIMIT) == 30
    [organisation] = xero.get("Organisation").json()["Organisations"]
    assert organisation["PaymentTerms"]["Sales"] == {"Day": 20, "Type": "OFFOLLOWINGMONTH"}
