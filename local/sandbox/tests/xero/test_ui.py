"""The sandbox Xero's read-only pages: what a person running `make run` opens to see the connector's work."""

from __future__ import annotations

import re

from local.sandbox.tests.xero.conftest import XeroClient, created, http, invoice

NZ = "Demo Company (NZ)"


def _page(xero: XeroClient, path: str) -> str:
    answer = http().get(xero.sandbox.url + path, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/html")
    return answer.text


def test_an_invoice_shows_its_lines_and_totals_and_is_listed_under_its_organisation(xero: XeroClient) -> None:
    created(xero.put("Items", {"Items": [{"Code": "WKSHOP", "Name": "Workshop day"}]}), "Items")
    made = created(xero.put("Invoices", invoice(status="AUTHORISED", Reference="D365 INV-77")))
    organisations = _page(xero, "/_sandbox/ui/")
    assert NZ in organisations and xero.tenant_id in organisations

    listing = _page(xero, f"/_sandbox/ui/{xero.tenant_id}/")
    row = re.search(rf'<tr id="invoice-{made["InvoiceID"]}".*?</tr>', listing, re.S)
    assert row is not None, listing
    assert made["InvoiceNumber"] in row.group(0) and "AUTHORISED" in row.group(0)
    assert "Ridgeway University" in row.group(0) and "230.00" in row.group(0)  # 2 × 100 + 15 % GST

    page = _page(xero, f"/_sandbox/ui/{xero.tenant_id}/invoices/{made['InvoiceID']}")
    assert "Consulting" in page and "D365 INV-77" in page
    for element, amount in (("subtotal", "200.00"), ("tax", "30.00"), ("total", "230.00"), ("due", "230.00")):
        assert re.search(rf'id="invoice-{element}">{re.escape(amount)}<', page), (element, page)

    assert "Ridgeway University" in _page(xero, f"/_sandbox/ui/{xero.tenant_id}/contacts")
    assert "WKSHOP" in _page(xero, f"/_sandbox/ui/{xero.tenant_id}/items")


def test_xeros_own_invoice_link_opens_the_invoice_page(xero: XeroClient) -> None:
    made = created(xero.put("Invoices", invoice()))
    answer = http().get(
        f"{xero.sandbox.url}/AccountsReceivable/View.aspx",
        params={"InvoiceID": made["InvoiceID"]},
        timeout=10,
    )
    assert answer.status_code == 200 and made["InvoiceID"] in answer.url
    assert "Consulting" in answer.text
    unknown = http().get(f"{xero.sandbox.url}/AccountsReceivable/View.aspx?InvoiceID=nope", timeout=10)
    assert unknown.status_code == 404
    assert "Organisations" in http().get(xero.sandbox.url + "/", timeout=10).text  # the root leads here


def test_the_pages_change_nothing_and_escape_what_they_show(xero: XeroClient) -> None:
    made = created(xero.put("Invoices", invoice(contact="<script>alert(1)</script> Ltd")))
    page = _page(xero, f"/_sandbox/ui/{xero.tenant_id}/invoices/{made['InvoiceID']}")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    posted = http().post(
        f"{xero.sandbox.url}/_sandbox/ui/{xero.tenant_id}/invoices/{made['InvoiceID']}", timeout=10
    )
    assert posted.status_code >= 400
    assert xero.sandbox.state.org(NZ).invoices[made["InvoiceID"]]["Status"] == "DRAFT"


def test_the_organisation_switch_follows_only_paths_on_this_site(xero: XeroClient) -> None:
    made = created(xero.put("Invoices", invoice()))
    target = f"/AccountsReceivable/View.aspx?InvoiceID={made['InvoiceID']}"
    answer = http().get(
        f"{xero.sandbox.url}/organisationlogin/default.aspx",
        params={"shortcode": "!abcde", "redirecturl": target},
        timeout=10,
    )
    assert answer.status_code == 200 and "Consulting" in answer.text
    # an open redirect to another site is what an attacker would put in a link: refused
    for elsewhere in ("https://evil.example/", "//evil.example/x", "evil.example"):
        refused = http().get(
            f"{xero.sandbox.url}/organisationlogin/default.aspx",
            params={"redirecturl": elsewhere},
            allow_redirects=False,
            timeout=10,
        )
        assert refused.status_code == 404, elsewhere
