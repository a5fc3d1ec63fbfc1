"""Writing through the Web API: create/update/upsert/delete, ETags, binds, pricing, read-only invoices."""

from __future__ import annotations

from local.sandbox.dataverse import DataverseSandbox

from .helpers import WebApiClient


def _account_id(sb: DataverseSandbox, name: str) -> str:
    return next(r["accountid"] for r in sb.state.rows("contoso", "accounts") if r["name"] == name)


def _product_id(sb: DataverseSandbox, number: str) -> str:
    return next(r["productid"] for r in sb.state.rows("contoso", "products") if r["productnumber"] == number)


def _new_invoice(sb: DataverseSandbox, api: WebApiClient) -> str:
    invoice_id = api.create(
        "invoices",
        {
            "name": "Test invoice",
            "invoicenumber": "T-1",
            "freightamount": 5,
            "customerid_account@odata.bind": f"/accounts({_account_id(sb, 'Fabrikam Ltd')})",
        },
    )
    api.create(
        "invoicedetails",
        {
            "invoiceid@odata.bind": f"/invoices({invoice_id})",
            "quantity": 2,
            "productid@odata.bind": f"/products({_product_id(sb, 'WIDGET-01')})",
            "tax": 1.25,
        },
    )
    api.create(
        "invoicedetails",
        {
            "invoiceid@odata.bind": f"invoices({invoice_id})",
            "quantity": 1,
            "priceperunit": 10,
            "isproductoverridden": True,
            "productdescription": "Write-in",
            "manualdiscountamount": 2,
        },
    )
    return invoice_id


def test_create_binds_lookups_and_computes_totals_like_dynamics(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    invoice_id = _new_invoice(sb, api)
    body = api.get(
        f"invoices({invoice_id})?$select=totallineitemamount,totaltax,totalamount,_customerid_value,"
        "_transactioncurrencyid_value&$expand=invoice_details($select=baseamount,extendedamount,lineitemnumber)"
    ).json()
    assert body["totallineitemamount"] == 25 + 8  # 2 × 12.50, then 10 − 2 discount
    assert body["totaltax"] == 1.25
    assert body["totalamount"] == 33 + 5 + 1.25
    assert body["_customerid_value"] == _account_id(sb, "Fabrikam Ltd")
    assert body["_transactioncurrencyid_value"]  # the base currency when none was given
    lines = sorted(body["invoice_details"], key=lambda x: x["lineitemnumber"])
    assert [(x["baseamount"], x["extendedamount"], x["lineitemnumber"]) for x in lines] == [
        (25, 26.25, 1),
        (10, 8, 2),
    ]


def test_representation_etag_and_version_grow_on_every_change(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    created = api.post(
        "accounts?$select=name,versionnumber",
        {"name": "Contoso Pharmaceuticals"},
        headers={"Prefer": "return=representation"},
    )
    assert created.status_code == 201
    first = created.json()
    account = f"accounts({first['accountid']})"
    assert api.patch(account, {"telephone1": "555"}).status_code == 204
    second = api.get(f"{account}?$select=versionnumber").json()
    assert second["versionnumber"] > first["versionnumber"]
    assert second["@odata.etag"] == f'W/"{second["versionnumber"]}"'
    stale = api.patch(account, {"name": "Stale"}, headers={"If-Match": first["@odata.etag"]})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "0x80060882"
    fresh = api.patch(account, {"name": "Fresh"}, headers={"If-Match": second["@odata.etag"]})
    assert fresh.status_code == 204
    assert api.get(f"{account}?$select=name").json()["name"] == "Fresh"


def test_if_match_star_never_creates_but_plain_patch_upserts(api: WebApiClient) -> None:
    row = "accounts(6f0b9d7e-1111-4c55-9a44-2b8a3f0d7e21)"
    assert api.patch(row, {"name": "Nope"}, headers={"If-Match": "*"}).status_code == 404
    assert api.get(row).status_code == 404
    assert api.patch(row, {"name": "Upserted"}).status_code == 204
    assert api.get(f"{row}?$select=name").json()["name"] == "Upserted"
    assert api.patch(row, {"name": "Again"}, headers={"If-None-Match": "*"}).status_code == 412


def test_unknown_column_and_bad_values_are_refused(sb: DataverseSandbox, api: WebApiClient) -> None:
    response = api.post("invoices", {"name": "x", "dxc_xerostatus": "AUTHORISED"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "0x80060888",
        "message": "Invalid property 'dxc_xerostatus' was found in entity 'Microsoft.Dynamics.CRM.invoice'.",
    }
    assert api.post("accounts", {"name": "x" * 161}).status_code == 400
    assert api.post("invoices", {"name": "x", "statecode": 9}).status_code == 400
    assert (
        api.post(
            "invoices",
            {"name": "x", "customerid_account@odata.bind": "/accounts(00000000-0000-0000-0000-000000000001)"},
        ).status_code
        == 404
    )
    malformed = api.http.post(
        api.base + "accounts", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and "error" in malformed.json()
    assert sb.state.rows("contoso", "invoices")[-1]["name"] != "x"


def test_paid_invoice_is_read_only_until_reactivated(sb: DataverseSandbox, api: WebApiClient) -> None:
    invoice_id = _new_invoice(sb, api)
    assert api.patch(f"invoices({invoice_id})", {"statecode": 2}).status_code == 204
    assert api.get(f"invoices({invoice_id})?$select=statuscode").json()["statuscode"] == 100001
    assert api.patch(f"invoices({invoice_id})", {"name": "changed"}).status_code == 400
    line = api.get(f"invoicedetails?$select=quantity&$filter=_invoiceid_value eq {invoice_id}").json()[
        "value"
    ][0]
    assert api.patch(f"invoicedetails({line['invoicedetailid']})", {"quantity": 5}).status_code == 400
    assert api.patch(f"invoices({invoice_id})", {"statecode": 0, "statuscode": 1}).status_code == 204
    assert api.patch(f"invoices({invoice_id})", {"name": "changed"}).status_code == 204


def test_delete_invoice_removes_its_lines(sb: DataverseSandbox, api: WebApiClient) -> None:
    invoice_id = _new_invoice(sb, api)
    assert api.delete(f"invoices({invoice_id})").status_code == 204
    assert api.get(f"invoices({invoice_id})").status_code == 404
    assert not [r for r in sb.state.rows("contoso", "invoicedetails") if r["invoiceid"].id == invoice_id]


def test_deep_insert_creates_invoice_and_lines_in_one_request(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    response = api.post(
        "invoices",
        {
            "name": "Deep",
            "invoice_details": [
                {"quantity": 3, "productid@odata.bind": f"/products({_product_id(sb, 'GADGET-02')})"}
            ],
        },
    )
    assert response.status_code == 204
    invoice_id = response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    assert api.get(f"invoices({invoice_id})?$select=totalamount").json()["totalamount"] == 297
