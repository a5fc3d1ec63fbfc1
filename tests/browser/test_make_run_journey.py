"""`make run` the way a newcomer meets it, in real Chromium: a fresh copy of the project, the launcher
`make run` invokes (`local/run.py`) with the sample settings and its `.local/` layout — only the ports moved,
through the settings' environment overrides, so the test never collides with a developer's own `make run`.

From the pages alone: register → dev mailbox → password → connection → Xero consent → Microsoft sign-in →
environment → install → defaults → start → sync; then `make run` is stopped with Ctrl-C and started again,
and the connection is still green and still works; an invoice created on the sandbox Dynamics page gets its
Xero number there, and its link opens it on the sandbox Xero's page. Finally Ctrl-C stops everything within
10 s and nothing is left running."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.journey_steps import (
    NZ,
    PRODUCTION,
    Shots,
    connect_dynamics,
    connect_xero,
    create_draft,
    expect_both_lights_green,
    install,
    open_step,
    register_and_set_password,
    reloaded,
    save_defaults,
    start,
    sync_tax_rates,
    until,
)
from tests.make_run import MakeRun, Ports, copy_project, still_running

pytestmark = pytest.mark.browser


@pytest.fixture
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    run = MakeRun(copy_project(tmp_path_factory.mktemp("make-run") / "connector"), Ports())
    try:
        yield run.start()
    finally:
        run.kill()


def _printed(run: MakeRun, pattern: str) -> str:
    """An address `make run` printed for the newcomer to open."""
    found = re.search(pattern, run.output())
    assert found, run.output()
    return found.group(1).rstrip("/")


def _restart(run: MakeRun) -> None:
    pids = set(run.pids)
    seconds = run.interrupt()
    assert seconds < 10 and not still_running(pids), run.output()
    run.start()


def test_make_run_to_the_first_invoice_in_xero_from_the_pages_alone(
    page: Page, newcomer: MakeRun, screenshots: Path
) -> None:
    shot = Shots(page, screenshots, prefix="make-run")
    url = _printed(newcomer, r"Open (http://\S+) ")
    register_and_set_password(page, url, f"newcomer.{uuid.uuid4().hex[:8]}@example.com", shot)
    create_draft(page, "Kiwi NZ", shot)
    connection_page = page.url
    connect_xero(page, NZ, shot)
    connect_dynamics(page, PRODUCTION, shot)
    install(page, shot)
    save_defaults(page, shot)
    start(page)
    sync_tax_rates(page)
    expect_both_lights_green(page)
    shot("green")

    # Ctrl-C and `make run` again: the sandboxes remember the sign-ins they issued, as Xero and Microsoft do
    _restart(newcomer)
    page.goto(connection_page)
    expect_both_lights_green(page)
    open_step(page, "defaults")
    page.get_by_role("button", name="Sync account codes").click()  # a call to Xero with the saved sign-in
    until(lambda: reloaded(page, "account code"), timeout=60, what="the account codes after the restart")
    expect_both_lights_green(page)
    expect(page.get_by_text(re.compile("refused|invalid_grant"))).to_have_count(0)
    shot("green-after-restart")

    # the sandbox Dynamics' invoice page, as `make run` printed it; it belongs to Contoso (Production)
    page.goto(_printed(newcomer, r"Dynamics invoices: +(https://\S+)"))
    expect(page.get_by_role("banner")).to_contain_text(PRODUCTION)
    page.get_by_role("link", name="New invoice").click()
    page.get_by_label("Name", exact=True).fill("First order")
    usd = page.locator("#currency option", has_text="USD").first.get_attribute("value")
    page.get_by_label("Currency").select_option(usd)
    page.get_by_label("Write-in description").first.fill("Onboarding workshop")
    page.get_by_label("Price per unit").first.fill("150")
    shot("dynamics-invoice")
    page.get_by_role("button", name="Create invoice").click()
    # The form posts and lands on the new invoice's page; look again only once that page is there (a reload
    # while the post's navigation is still committing detaches Chromium's page).
    page.wait_for_url(re.compile(r"/invoices/[0-9a-f-]{36}$"))
    invoice_page = page.url
    number = page.locator("#dxc_xeroinvoicenumber")

    def numbered() -> bool:
        page.goto(invoice_page)
        return number.inner_text().strip() != ""

    until(numbered, timeout=60, what="the Xero number on the Dynamics invoice")
    xero_number = number.inner_text().strip()
    shot("dynamics-invoice-with-xero-number")

    page.get_by_role("link", name=re.compile(r"in Xero$")).click()  # the link the README promises
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {xero_number}")
    expect(page.get_by_role("cell", name="Onboarding workshop")).to_be_visible()
    expect(page.locator("#invoice-subtotal")).to_have_text("150.00")
    shot("sandbox-xero-invoice")

    page.goto(connection_page)
    until(lambda: reloaded(page, "", pushed=1), timeout=60, what="the activity")
    open_step(page, "xero")
    page.get_by_role("link", name="See its invoices in the sandbox Xero").click()
    expect(page.locator(f'tr[data-invoice-number="{xero_number}"]')).to_contain_text("AUTHORISED")
    shot("sandbox-xero-invoices")

    pids = set(newcomer.pids)
    assert newcomer.interrupt() < 10, newcomer.output()
    assert not still_running(pids), newcomer.output()
    assert "killed" not in newcomer.output()
