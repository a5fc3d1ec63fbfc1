"""Reading through the Web API: the connector's one-request invoice read, annotations, filters, errors."""

from __future__ import annotations

from local.sandbox.dataverse import DataverseSandbox

from .helpers import WebApiClient, session_for

INVOICE_READ = (
    "$select=invoicenumber,name,totalamount,duedate,statecode,_customerid_value"
    "&$expand=customerid_account($select=name,accountnumber,emailaddress1),"
    "customerid_contact($select=fullname,emailaddress1),"
    "transactioncurrencyid($select=isocurrencycode),"
    "invoice_details($select=quantity,priceperunit,manualdiscountamount,tax,lineitemnumber,productdescription,"
    "isproductoverridden;$expand=productid($select=productnumber,name,price))"
)
ANNOTATIONS = {"Prefer": 'odata.include-annotations="*"', "If-None-Match": "null"}


def _invoice_id(sb: DataverseSandbox, number: str) -> str:
    return next(r["invoiceid"] for r in sb.state.rows("contoso", "invoices") if r["invoicenumber"] == number)


def test_one_get_brings_invoice_lines_products_currency_and_customer(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    # GIVEN the seeded invoice INV-00001 (account customer, two product lines)
    invoice_id = _invoice_id(sb, "INV-00001")
    # WHEN the connector reads it in one request
    response = api.get(f"invoices({invoice_id})?{INVOICE_READ}", headers=ANNOTATIONS)
    # THEN everything it needs is there, annotated like Dataverse
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["invoicenumber"] == "INV-00001"
    assert body["totalamount"] == 567.5
    assert body["@odata.etag"].startswith('W/"')
    assert body["_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
    assert body["_customerid_value@OData.Community.Display.V1.FormattedValue"] == "Fabrikam Ltd"
    assert body["statecode@OData.Community.Display.V1.FormattedValue"] == "Active"
    assert body["customerid_account"]["name"] == "Fabrikam Ltd"
    assert body["customerid_contact"] is None
    assert body["transactioncurrencyid"]["isocurrencycode"] == "USD"
    lines = sorted(body["invoice_details"], key=lambda x: x["lineitemnumber"])
    assert [line["quantity"] for line in lines] == [10, 3]
    assert lines[0]["productid"]["productnumber"] == "WIDGET-01"
    assert "totalamount" not in lines[0] and "baseamount" not in lines[0]  # $select honoured


def test_contact_customer_expands_on_the_contact_side(sb: DataverseSandbox, api: WebApiClient) -> None:
    response = api.get(f"invoices({_invoice_id(sb, 'INV-00002')})?{INVOICE_READ}", headers=ANNOTATIONS)
    body = response.json()
    assert body["customerid_account"] is None
    assert body["customerid_contact"]["fullname"] == "Ana Bauer"
    write_in = next(x for x in body["invoice_details"] if x["isproductoverridden"])
    assert write_in["productid"] is None and write_in["productdescription"] == "Write-in: on-site visit"


def test_filter_top_orderby_and_count(api: WebApiClient) -> None:
    response = api.get(
        "accounts?$select=name&$filter=address1_country eq 'United States' and name ne 'x'"
        "&$orderby=name desc&$top=1&$count=true"
    )
    body = response.json()
    assert response.status_code == 200, response.text
    assert body["@odata.count"] == 2
    assert [a["name"] for a in body["value"]] == ["Northwind Traders"]
    apostrophe = api.get("accounts", params={"$select": "name", "$filter": "name eq 'O''Brien & Sons'"})
    assert [a["name"] for a in apostrophe.json()["value"]] == ["O'Brien & Sons"]


def test_lookup_value_filter(sb: DataverseSandbox, api: WebApiClient) -> None:
    invoice_id = _invoice_id(sb, "INV-00001")
    response = api.get(f"invoicedetails?$select=lineitemnumber&$filter=_invoiceid_value eq {invoice_id}")
    assert len(response.json()["value"]) == 2


def test_unsupported_and_wrong_queries_answer_dataverse_errors(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    invoice_id = _invoice_id(sb, "INV-00001")
    for path in (
        "accounts?$skip=1",
        f"invoices({invoice_id})?$expand=invoice_details($top=1)",
        f"invoices({invoice_id})?$expand=invoice_details($orderby=lineitemnumber)",
        "accounts?$select=nosuchcolumn",
        "accounts?$filter=name eq",
    ):
        response = api.get(path)
        assert response.status_code == 400, path
        assert set(response.json()["error"]) >= {"code", "message"}
    missing = api.get("nosuchthings")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "0x80060888",
        "message": "Resource not found for the segment 'nosuchthings'.",
    }
    assert api.get("accounts(00000000-0000-0000-0000-00000000abcd)").status_code == 404


def test_a_select_of_a_column_the_table_lacks_is_refused_as_dataverse_words_it(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    # Learn, "Troubleshoot Dataverse Web API client errors": 400, code "0x0", the property and its type
    invoice_id = _invoice_id(sb, "INV-00001")
    for path, prop, type_ in (
        (f"invoices({invoice_id})?$select=name,dxc_nosuchcolumn", "dxc_nosuchcolumn", "invoice"),
        (f"invoices({invoice_id})?$expand=customerid_account($select=dxc_nope)", "dxc_nope", "account"),
    ):
        response = api.get(path)
        assert response.status_code == 400, path
        assert response.json()["error"] == {
            "code": "0x0",
            "message": f"Could not find a property named '{prop}' on type 'Microsoft.Dynamics.CRM.{type_}'.",
        }


def test_no_token_is_401_and_a_token_for_another_environment_is_refused(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    anonymous = session_for(sb).get(f"{sb.env_url('contoso')}/api/data/v9.2/accounts")
    assert anonymous.status_code == 401
    assert "WWW-Authenticate" in anonymous.headers
    other = session_for(sb).get(
        f"{sb.env_url('contoso-sandbox')}/api/data/v9.2/accounts",
        headers={"Authorization": api.http.headers["Authorization"]},
    )
    assert other.status_code == 401


def test_who_am_i(sb: DataverseSandbox, api: WebApiClient) -> None:
    body = api.get("WhoAmI").json()
    env = sb.state.get("contoso")
    assert env is not None
    assert body["OrganizationId"] == env.organization_id
    assert body["BusinessUnitId"] == env.business_unit_id
    assert sb.state.get("contoso") is not None and body["UserId"]
