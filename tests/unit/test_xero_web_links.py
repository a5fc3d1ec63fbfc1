"""The Xero link written onto a Dynamics invoice opens it where it is: go.xero.com for Xero's API, the
local sandbox Xero's own page when XERO_API_URL points at it."""

from __future__ import annotations

from shared.sync.write_back import invoice_link
from shared.xero.accounting import web_url_for

ID = "0f1e2d3c-0000-4000-8000-00000000abcd"


def test_xeros_api_links_to_go_xero_com() -> None:
    assert web_url_for("https://api.xero.com") == "https://go.xero.com"
    assert invoice_link(ID, web_url_for("https://api.xero.com/")) == (
        f"https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={ID}"
    )


def test_the_local_sandbox_links_to_its_own_pages() -> None:
    assert web_url_for("http://127.0.0.1:7081/") == "http://127.0.0.1:7081"
    assert invoice_link(ID, web_url_for("http://127.0.0.1:7081")).startswith("http://127.0.0.1:7081/Accounts")


def test_a_look_alike_host_is_not_xero() -> None:
    assert web_url_for("https://api.xero.com.attacker.example") == "https://api.xero.com.attacker.example"


def test_the_portal_links_to_the_sandbox_xeros_pages_only_when_running_against_it() -> None:
    from shared.xero.accounting import sandbox_pages_url

    assert sandbox_pages_url("http://127.0.0.1:7081", "abc") == "http://127.0.0.1:7081/_sandbox/ui/abc/"
    assert sandbox_pages_url("https://api.xero.com", "abc") == ""
    assert sandbox_pages_url("http://127.0.0.1:7081", "") == ""
