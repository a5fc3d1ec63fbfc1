"""The newcomer's steps through the portal and the sandboxes' pages, shared by the browser journeys.

Elements are found the way a person finds them — headings, labels, button and link names — so the steps
survive changes of layout; where the portal's wording changed over time ("Create the connection" became
"Create connection"; starting became "Start syncing"), a step accepts both."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

PASSWORD = "correct horse 42 battery"
NZ, PRODUCTION = "Demo Company (NZ)", "Contoso (Production)"
# A step that calls Xero or Dynamics several times (install, sign-in, live checks) on a loaded 2-core
# machine can take longer than Playwright's 5 s default; a person waits too.
SLOW_STEP_MS = 30_000
CREATE_DRAFT = re.compile(r"^Create (the )?connection$")
START = re.compile(r"^(Create connection|Start syncing)$")


class Shots:
    """Numbered full-page screenshots of a journey, for a person to look through after a run."""

    def __init__(self, page: Page, folder: Path, prefix: str = "onboarding") -> None:
        self.page, self.folder, self.prefix, self.count = page, folder, prefix, 0

    def __call__(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(path=self.folder / f"{self.prefix}-{self.count:02d}-{name}.png", full_page=True)


def until(check: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.3)


def reloaded(page: Page, text: str, pushed: int | None = None) -> bool:
    page.reload()
    if pushed is not None:
        return page.locator("#count-pushed").inner_text() == str(pushed)
    # textContent, not innerText: the text may be in a step that is closed on this page.
    return text in (page.locator("main").text_content() or "")


def open_step(page: Page, key: str) -> None:
    """Open a step of the connection page (Xero, Dynamics, Install, Defaults, Start) as a person would,
    by its summary, when it is not open already (the current step is)."""
    step = page.locator(f"details#step-{key}")
    if step.count() and step.get_attribute("open") is None:
        step.locator("summary").click()
        expect(step).to_have_attribute("open", "")


def lights(page: Page) -> Locator:
    """The connection page's two status lights (the list under "Status lights")."""
    return page.locator("#lights + ul")


def expect_both_lights_green(page: Page) -> None:
    listed = lights(page)
    expect(listed.get_by_text("(OK)")).to_have_count(2)
    expect(listed.get_by_text("(needs attention)")).to_have_count(0)


def register_and_set_password(page: Page, url: str, email: str, shot: Shots) -> None:
    """From the landing page: register, open the verification e-mail in the dev mailbox, set a password."""
    page.goto(url + "/")
    page.get_by_role("link", name=re.compile("Register", re.I)).first.click()
    page.get_by_label("Your name").fill("Ana Example")
    page.get_by_label("Company").fill("Kiwi Ltd")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label(re.compile("I accept the terms")).check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    shot("registered")
    page.goto(url + "/dev/mailbox")  # README: "open the verification e-mail in the dev mailbox"
    page.get_by_role("row").filter(has_text=email).get_by_role("link").first.click()
    page.get_by_role("link", name=re.compile(r"verify\?token=")).click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Type the password again").fill(PASSWORD)
    page.get_by_role("button", name="Save password and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your connections")
    shot("signed-in")


def create_draft(page: Page, name: str, shot: Shots) -> None:
    page.get_by_role("link", name="Create a new connection").click()
    page.get_by_label("Name of the connection").fill(name)
    page.get_by_role("radio", name=re.compile("^Free trial")).check()
    page.get_by_role("button", name=CREATE_DRAFT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    shot("connection-draft")


def connect_xero(page: Page, organisation: str, shot: Shots) -> None:
    open_step(page, "xero")
    page.get_by_role("button", name="Connect to Xero").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("wants access to your Xero organisations")
    page.get_by_label(organisation).check()
    shot("xero-consent")
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_text(f"Connected to Xero: {organisation}.").first).to_be_visible(timeout=SLOW_STEP_MS)


def connect_dynamics(page: Page, environment: str, shot: Shots) -> None:
    open_step(page, "dynamics")
    page.get_by_role("button", name="Connect to Dynamics").click()
    page.get_by_label(re.compile(r"admin@contoso\.example")).check()
    shot("microsoft-sign-in")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Choose the Dynamics 365 environment", timeout=SLOW_STEP_MS
    )
    page.get_by_label(re.compile(re.escape(environment))).check()
    page.get_by_role("button", name="Connect this environment").click()
    expect(page.get_by_text(f"Connected to Dynamics: {environment}.").first).to_be_visible(
        timeout=SLOW_STEP_MS
    )


def connect_dynamics_onprem(
    page: Page, org_url: str, register: Callable[[str], tuple[str, str]], user: tuple[str, str], shot: Shots
) -> None:
    """Dynamics 365 on-premises: the page shows the redirect URI; `register` is the AD FS administrator
    entering it in an application group (it answers the client identifier and secret AD FS gave); then
    the form, AD FS's sign-in page, and back on the connection."""
    open_step(page, "dynamics")
    page.get_by_role("link", name="Connect Dynamics 365 on-premises").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connect Dynamics 365 on-premises (AD FS)")
    client_id, secret = register(page.locator("#redirect-uri").inner_text().strip())
    page.get_by_label("Organisation URL").fill(org_url)
    page.get_by_label("Client identifier").fill(client_id)
    page.get_by_label("Client secret").fill(secret)
    shot("onprem-form")
    page.get_by_role("button", name="Check the server and sign in").click()
    page.get_by_role("link", name="Sign in with AD FS").click(timeout=SLOW_STEP_MS)
    page.get_by_label("User account").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    shot("adfs-sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(re.compile(r"^Connected to Dynamics: ")).first).to_be_visible(
        timeout=SLOW_STEP_MS
    )


def install(page: Page, shot: Shots) -> None:
    open_step(page, "install")
    page.get_by_role("button", name="Install into Dynamics").click()
    expect(page.get_by_text(re.compile("^Installed into Dynamics:")).first).to_be_visible(
        timeout=SLOW_STEP_MS
    )
    shot("installed")


def save_defaults(page: Page, shot: Shots) -> None:
    """What a newcomer changes: approved invoices; the rest as offered."""
    open_step(page, "defaults")
    page.get_by_role("radio", name="Approved (authorised)").check()
    shot("defaults")
    page.get_by_role("button", name="Save defaults").click()
    expect(page.get_by_text("Defaults saved.").first).to_be_visible(timeout=SLOW_STEP_MS)


def start(page: Page) -> None:
    open_step(page, "start")
    page.get_by_role("button", name=START).click()
    expect(page.get_by_text(re.compile("The connection is running")).first).to_be_visible(
        timeout=SLOW_STEP_MS
    )


def sync_tax_rates(page: Page) -> None:
    open_step(page, "defaults")
    page.get_by_role("button", name="Sync tax rates").click()
    expect(page.get_by_text(re.compile("Refresh queued")).first).to_be_visible(timeout=SLOW_STEP_MS)
    until(lambda: reloaded(page, "Last refreshed"), timeout=60, what="the reference refresh")
