"""Dynamics 365 on-premises end to end in real Chromium (issue 18): register → a connection → Xero →
"Dynamics 365 on-premises (AD FS)" with the values for AD FS shown and entered by the administrator → the
sandbox AD FS's sign-in page → install → defaults → start; an invoice saved in the on-premises organisation
(the sandbox's Fabrikam, Web API 9.1) appears in Xero and its Xero number is written back onto it."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from local.azurite import Azurite
from local.smtp_sink import SmtpSink
from tests.browser.journey_steps import (
    NZ,
    Shots,
    connect_dynamics_onprem,
    connect_xero,
    create_draft,
    expect_both_lights_green,
    install,
    register_and_set_password,
    save_defaults,
    start,
    until,
)
from tests.support.stack import LocalStack

pytestmark = pytest.mark.browser
ADMIN = ("admin@fabrikam.example", "Fabrikam-Sandbox-1")
_EMAIL = (
    "EMAIL_MODE",
    "EMAIL_FROM",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_STARTTLS",
    "SMTP_USERNAME",
    "DEV_MAILBOX_DIR",
)


@pytest.fixture(scope="module")
def stack(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = Path(tmp_path_factory.mktemp("onprem"))
    sink = SmtpSink(work / "mailbox").start()
    saved = {name: os.environ.get(name) for name in _EMAIL}
    os.environ.update(
        {
            "EMAIL_MODE": "smtp",
            "EMAIL_FROM": "Connector <no-reply@example.test>",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink.port),
            "SMTP_STARTTLS": "false",
            "SMTP_USERNAME": "",
            "DEV_MAILBOX_DIR": str(work / "mailbox"),
        }
    )
    running = LocalStack(prefix="op" + uuid.uuid4().hex[:8], azurite=azurite, work_dir=work).start()
    try:
        yield running
    finally:
        running.stop()
        sink.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_on_premises_from_adfs_sign_in_to_an_invoice_in_xero_and_back(
    page: Page, stack: LocalStack, screenshots: Path
) -> None:
    assert stack.host is not None
    shot, url, dataverse = Shots(page, screenshots, prefix="onprem"), stack.host.url, stack.dataverse
    registered: list[str] = []

    def adfs_administrator(redirect_uri: str) -> tuple[str, str]:
        """Adds the application group with the redirect URI the page shows; AD FS gives id and secret."""
        client_id, secret = str(uuid.uuid4()), "adfs-" + uuid.uuid4().hex
        dataverse.register_adfs_client(client_id, secret, [redirect_uri])
        registered.append(redirect_uri)
        return client_id, secret

    register_and_set_password(page, url, f"onprem.{uuid.uuid4().hex[:8]}@example.com", shot)
    create_draft(page, "Fabrikam NZ", shot)
    connect_xero(page, NZ, shot)
    connection_page = page.url
    _each_failure_says_what_failed(page, stack, connection_page, shot)
    page.goto(connection_page)
    connect_dynamics_onprem(page, dataverse.onprem.org_url(), adfs_administrator, ADMIN, shot)
    assert registered[-1] == f"{url}/oauth/dynamics/callback"
    expect(page.get_by_text("Connected to Dynamics: Fabrikam (on-premises).").first).to_be_visible()
    install(page, shot)
    save_defaults(page, shot)
    start(page)
    expect_both_lights_green(page)
    shot("onprem-green")

    # an invoice saved in the on-premises organisation
    page.goto(f"{dataverse.url}/_sandbox/ui/fabrikam/invoices/new")
    page.get_by_label("Name", exact=True).fill("On-premises order")
    usd = page.locator("#currency option", has_text="USD").first.get_attribute("value")
    page.get_by_label("Currency").select_option(usd)
    page.get_by_label("Write-in description").first.fill("Server room audit")
    page.get_by_label("Price per unit").first.fill("275")
    page.get_by_role("button", name="Create invoice").click()
    page.wait_for_url(re.compile(r"/invoices/[0-9a-f-]{36}$"))
    invoice_page = page.url
    tenant = stack.tenant_id(NZ)

    def in_xero() -> bool:
        invoices = requests.get(f"{stack.xero.url}/_sandbox/orgs/{tenant}/Invoices", timeout=10).json()
        return any(float(i.get("SubTotal", 0)) == 275 for i in invoices)

    until(in_xero, timeout=60, what="the on-premises invoice in Xero")
    number = page.locator("#dxc_xeroinvoicenumber")

    def written_back() -> bool:
        page.goto(invoice_page)
        return number.inner_text().strip() != ""

    until(written_back, timeout=60, what="the Xero number on the on-premises invoice")
    shot("onprem-invoice-with-xero-number")
    # every Web API call went to the on-premises server's 9.1 endpoint, none to Global Discovery
    paths = [r["path"] for r in dataverse.counter.as_list() if r["organisation"] == "fabrikam"]
    assert paths and not [p for p in paths if "/api/data/v9.2/" in p]
    assert not [r for r in dataverse.counter.as_list() if "/api/discovery/v2.0/" in r["path"]]


def _each_failure_says_what_failed(page: Page, stack: LocalStack, connection_page: str, shot: Shots) -> None:
    """On the on-premises page: a private address, an unknown host, AD FS refusing the redirect URI, and a
    9.0 server lacking a call — each said in words on the page (the certificate case needs other settings
    than this stack's: tests/integration/test_connect_onprem.py)."""
    dataverse, port = stack.dataverse, stack.dataverse.url.rsplit(":", 1)[1]
    client_id, secret = str(uuid.uuid4()), "adfs-" + uuid.uuid4().hex

    def submit(org_url: str) -> None:
        page.goto(connection_page.split("#")[0] + "/dynamics/onprem")
        page.get_by_label("Organisation URL").fill(org_url)
        page.get_by_label("Client identifier").fill(client_id)
        page.get_by_label("Client secret").fill(secret)
        page.get_by_role("button", name="Check the server and sign in").click()

    submit(f"https://localhost:{port}/fabrikam")  # DNS answers loopback: the SSRF attack
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"localhost resolves to (127\.0\.0\.1|::1), which is not a public internet address")
    )
    shot("onprem-private-address")
    submit("https://crm.fabrikam.invalid/")
    expect(page.get_by_role("alert")).to_contain_text(
        "Azure cannot find crm.fabrikam.invalid: DNS has no address"
    )
    redirect_uri = page.locator("#redirect-uri").inner_text().strip()
    dataverse.register_adfs_client(client_id, secret, [redirect_uri + "/typo"])
    submit(dataverse.onprem.org_url())
    expect(page.get_by_role("alert")).to_contain_text(
        f"AD FS refused the connector's redirect URI. In AD FS Management → Application Groups → the "
        f"connector's server application, the redirect URI must be exactly {redirect_uri}"
    )
    shot("onprem-redirect-uri-refused")
    dataverse.register_adfs_client(client_id, secret, [redirect_uri])
    dataverse.onprem.settings.update({"max_version": "9.0", "lacking": ["RetrieveUserPrivileges"]})
    try:
        submit(dataverse.onprem.org_url())
        page.get_by_role("link", name="Sign in with AD FS").click()
        page.get_by_label("User account").fill(ADMIN[0])
        page.get_by_label("Password").fill(ADMIN[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dynamics is not connected")
        expect(page.get_by_text(re.compile("does not offer RetrieveUserPrivileges"))).to_contain_text(
            "Your Dynamics server's Web API (version 9.0) does not offer RetrieveUserPrivileges, which the "
            "connector needs. Update Dynamics 365 Customer Engagement (on-premises) to 9.1 or later"
        )
        expect(page.get_by_role("link", name="Try again")).to_have_attribute(
            "href", re.compile(r"/dynamics/onprem\?org_url=https")
        )
        shot("onprem-9-0-lacks-a-call")
        page.get_by_role("link", name="Try again").click()  # the form as it was typed, but the secret
        expect(page.get_by_label("Organisation URL")).to_have_value(dataverse.onprem.org_url())
        expect(page.get_by_label("Client identifier")).to_have_value(client_id)
        expect(page.get_by_label("Client secret")).to_have_value("")
        assert secret not in page.content()
    finally:
        dataverse.onprem.settings.update({"max_version": "9.1", "lacking": []})
