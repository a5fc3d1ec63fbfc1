"""The HTML page: list, create with lines, edit a quantity, cancel; saves fire webhooks like a user's."""

from __future__ import annotations

import json

from local.sandbox.dataverse import DataverseSandbox

from .helpers import Receiver, WebApiClient, register_step, register_webhook, session_for


def test_page_lists_invoices_with_escaped_names(sb: DataverseSandbox) -> None:
    page = session_for(sb).get(f"{sb.url}/_sandbox/ui/contoso/")
    assert page.status_code == 200
    assert "INV-00001" in page.text and 'id="new-invoice-link"' in page.text
    form = session_for(sb).get(f"{sb.url}/_sandbox/ui/contoso/invoices/new").text
    assert "&lt;b&gt;Bold&lt;/b&gt; Traders" in form and "<b>Bold</b>" not in form
    assert 'for="line1-quantity"' in form


def test_new_invoice_form_creates_lines_and_fires_webhooks(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver
) -> None:
    endpoint = register_webhook(api, receiver.url)
    register_step(api, endpoint, "Create", "invoice")
    register_step(api, endpoint, "Update", "invoicedetail")
    account = sb.state.rows("contoso", "accounts")[0]["accountid"]
    product = sb.state.rows("contoso", "products")[0]
    browser = session_for(sb)
    created = browser.post(
        f"{sb.url}/_sandbox/ui/contoso/invoices",
        data={
            "name": "From the page",
            "invoicenumber": "UI-1",
            "customer": f"account:{account}",
            "duedate": "2030-03-01",
            "line1-product": product["productid"],
            "line1-quantity": "2",
            "line2-description": "Write-in work",
            "line2-quantity": "1",
            "line2-price": "80",
            "line2-discount": "5",
        },
    )
    assert created.status_code == 200 and "UI-1" in created.text
    invoice = next(r for r in sb.state.rows("contoso", "invoices") if r["invoicenumber"] == "UI-1")
    assert invoice["totalamount"] == 2 * product["price"] + 75
    assert json.loads(receiver.wait_for(1)[0]["body"])["PrimaryEntityId"] == invoice["invoiceid"]
    line = next(
        r
        for r in sb.state.rows("contoso", "invoicedetails")
        if r["invoiceid"].id == invoice["invoiceid"] and r["lineitemnumber"] == 1
    )
    edit_url = f"{sb.url}/_sandbox/ui/contoso/invoices/{invoice['invoiceid']}"
    browser.post(
        edit_url,
        data={"name": "From the page", "duedate": "2030-03-01", f"quantity-{line['invoicedetailid']}": "3"},
    )
    update = json.loads(receiver.wait_for(2)[1]["body"])
    assert (update["MessageName"], update["PrimaryEntityName"]) == ("Update", "invoicedetail")
    cancelled = browser.post(f"{edit_url}/cancel")
    assert 'id="activate-invoice"' in cancelled.text
    assert (
        next(r for r in sb.state.rows("contoso", "invoices") if r["invoicenumber"] == "UI-1")["statecode"]
        == 3
    )


def test_write_in_line_without_price_shows_an_error(sb: DataverseSandbox) -> None:
    before = len(sb.state.rows("contoso", "invoices"))
    account = sb.state.rows("contoso", "accounts")[0]["accountid"]
    page = session_for(sb).post(
        f"{sb.url}/_sandbox/ui/contoso/invoices",
        data={
            "name": "Bad",
            "customer": f"account:{account}",
            "line1-description": "No price",
            "line1-quantity": "1",
        },
    )
    assert page.status_code == 400 and 'role="alert"' in page.text
    assert len(sb.state.rows("contoso", "invoices")) == before
