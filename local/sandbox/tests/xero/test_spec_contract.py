"""Every answer the sandbox gives on the endpoints the connector uses holds against Xero's OpenAPI spec
(the client fixture validates each 200/400 answer, and the request of each write)."""

from __future__ import annotations

import warnings

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from local.sandbox.tests.xero.conftest import XERO_API, XeroClient, created, http, invoice
from local.sandbox.xero import XeroSandbox

# About the spec itself: without it these would check nothing, so they skip (the other sandbox tests run).
pytestmark = pytest.mark.usefixtures("accounting_spec")

REFERENCE = ["TaxRates", "Accounts", "BrandingThemes", "TrackingCategories", "Currencies", "Organisation"]


@pytest.mark.parametrize("resource", REFERENCE)
def test_reference_data_answers_match_the_spec(xero: XeroClient, resource: str) -> None:
    # GIVEN the seeded NZ demo org WHEN its reference data is read THEN the answer is spec-valid and not empty
    response = xero.get(resource)
    assert response.status_code == 200
    key = "Organisations" if resource == "Organisation" else resource
    assert response.json()[key]


def test_one_account_theme_and_tracking_category_by_id_match_the_spec(xero: XeroClient) -> None:
    for resource, id_field in (
        ("Accounts", "AccountID"),
        ("BrandingThemes", "BrandingThemeID"),
        ("TrackingCategories", "TrackingCategoryID"),
    ):
        first = xero.get(resource).json()[resource][0]
        one = xero.get(f"{resource}/{first[id_field]}")
        assert one.json()[resource] == [first]


def test_invoice_contact_and_item_lifecycle_matches_the_spec(xero: XeroClient) -> None:
    # GIVEN a contact and an item
    contact = created(
        xero.put(
            "Contacts",
            {"Contacts": [{"Name": "Spec Ltd", "ContactNumber": "C-1", "EmailAddress": "a@spec.example"}]},
        ),
        "Contacts",
    )
    item = created(
        xero.put(
            "Items",
            {
                "Items": [
                    {
                        "Code": "SPEC-1",
                        "Name": "Spec item",
                        "SalesDetails": {"UnitPrice": 12.5, "AccountCode": "200", "TaxType": "OUTPUT2"},
                    }
                ]
            },
        ),
        "Items",
    )
    # WHEN an invoice uses both, is read back, listed, paged and updated
    body = invoice() | {
        "Contact": {"ContactID": contact["ContactID"]},
        "LineItems": [{"ItemCode": "SPEC-1", "Quantity": 3}],
    }
    made = created(xero.put("Invoices", {"Invoices": [body]}))
    one = created(xero.get(f"Invoices/{made['InvoiceID']}"))
    xero.get("Invoices")
    xero.get("Invoices", params={"page": 1})
    xero.get("Contacts", params={"page": 1})
    xero.get(f"Contacts/{contact['ContactID']}")
    xero.get(f"Items/{item['ItemID']}")
    updated = created(xero.post(f"Invoices/{made['InvoiceID']}", {"Invoices": [{"Reference": "PO-7"}]}))
    # THEN the item's defaults priced the line and every answer validated
    assert one["LineItems"][0]["UnitAmount"] == 12.5 and one["Total"] == 43.13
    assert updated["Reference"] == "PO-7" and updated["InvoiceID"] == made["InvoiceID"]


def test_validation_failures_match_the_error_schema(xero: XeroClient) -> None:
    bad = invoice() | {"CurrencyCode": "EUR"}
    response = xero.put("Invoices", {"Invoices": [bad]})
    assert response.status_code == 400
    assert response.json()["Type"] == "ValidationException" and response.json()["ErrorNumber"] == 10
    mixed = xero.put("Invoices", {"Invoices": [bad, invoice()]}, params={"summarizeErrors": "false"})
    assert mixed.status_code == 200
    assert [e["HasErrors"] for e in mixed.json()["Invoices"]] == [True, False]


def test_connections_match_the_identity_spec(sandbox: XeroSandbox, identity_spec: OpenAPI) -> None:
    token = sandbox.state.issue_tokens()
    response = http().get(
        f"{sandbox.url}/connections", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=5
    )
    prepared = response.request.copy()
    prepared.url = f"{XERO_API}/Connections"  # the spec spells the path with a capital C
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        identity_spec.validate_response(RequestsOpenAPIRequest(prepared), RequestsOpenAPIResponse(response))
    assert {c["tenantName"] for c in response.json()} == {o.name for o in sandbox.state.orgs.values()}


def test_requests_the_spec_forbids_are_refused(xero: XeroClient, accounting_spec: OpenAPI) -> None:
    # Item without its required Code: the spec says required, Xero says no
    missing_code = xero.put("Items", {"Items": [{"Name": "No code"}]}, validate_request=False)
    assert missing_code.status_code == 400 and missing_code.json()["Type"] == "ValidationException"
    # A word where a number belongs: Xero cannot convert it
    wrong_type = invoice()
    wrong_type["LineItems"][0]["Quantity"] = "two"
    refused = xero.put("Invoices", {"Invoices": [wrong_type]}, validate_request=False)
    assert refused.status_code == 400
    assert refused.json()["Type"] == "PostDataInvalidException" and refused.json()["ErrorNumber"] == 14
    assert "Quantity" in refused.json()["Message"]
    # and the spec agrees that request is invalid (so the test proves the sandbox follows the spec)
    with pytest.raises(Exception), warnings.catch_warnings():  # noqa: B017 - any validation error
        warnings.simplefilter("ignore")
        prepared = refused.request.copy()
        prepared.url = str(prepared.url).replace(xero.sandbox.url, XERO_API)
        accounting_spec.validate_request(RequestsOpenAPIRequest(prepared))
    unknown_status = xero.put("Invoices", {"Invoices": [invoice(status="FINISHED")]}, validate_request=False)
    assert unknown_status.status_code == 400 and unknown_status.json()["ErrorNumber"] == 14
    assert xero.sandbox.state.org(xero.tenant_id).invoices == {}


def test_malformed_json_unknown_paths_and_methods(xero: XeroClient) -> None:
    malformed = xero.call("PUT", "Invoices", raw='{"Invoices": [')
    assert malformed.status_code == 400 and malformed.json()["Type"] == "PostDataInvalidException"
    assert xero.get("Nonsense").status_code == 404
    assert xero.get("Invoices/6a1b2c3d-0000-4000-8000-000000000000").status_code == 404
    not_allowed = xero.call("DELETE", "Invoices")
    assert not_allowed.status_code == 405 and not_allowed.json()["Status"] == 405


def test_an_unexpected_failure_is_a_json_500_not_a_traceback(xero: XeroClient) -> None:
    # GIVEN a record corrupted behind the API's back (no contact reference)
    xero.sandbox.state.org(xero.tenant_id).invoices["broken"] = {"InvoiceID": "broken"}
    # WHEN invoices are listed THEN the sandbox answers a JSON 500 and keeps serving
    response = xero.get("Invoices")
    assert response.status_code == 500 and response.json()["Status"] == 500
    assert "Traceback" not in response.text
    assert xero.get("Accounts").status_code == 200
