"""The connection pages over real HTTP: the local Functions host in this process on the full local stack
(Azurite, sandbox Xero, sandbox Dataverse). A "browser without JavaScript" walks our pages and the
sandboxes' consent and sign-in pages. The host's queue workers listen on the stack's queues while the
portal sends to queues of its own, so a test sees exactly what the portal enqueued."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests

from local.azurite import Azurite
from local.sandbox.dataverse.identity_directory import Client
from shared import bootstrap
from shared.accounts.passwords import hash_password
from shared.connections.connections import create_connection
from shared.dataverse.install_plan import endpoint_name
from shared.reference.preflight import standing
from shared.reference.worker import handle_refresh_message, refresh_message
from shared.store.accounts import AccountStore
from shared.store.activity import ActivityLog
from shared.store.models import Account, Connection, Problem, utc_now
from shared.store.sync_settings import InvoiceStatus, Numbering, TaxMode
from shared.sync.events import InvoiceEvent
from tests.integration.form_client import FormClient
from tests.support.stack import LocalStack, install_app

PASSWORD = "correct horse 42 battery"
NZ, AU, UK = "Demo Company (NZ)", "Demo Company (AU)", "Demo Company (UK)"
ADMIN, LIMITED, PRODUCTION = "admin@contoso.example", "limited@contoso.example", "Contoso (Production)"
MARKUP = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def stack(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = Path(tmp_path_factory.mktemp("portal-connections"))
    stack = LocalStack(prefix="pc" + uuid.uuid4().hex[:8], azurite=azurite, work_dir=work).start()
    os.environ["INVOICE_QUEUE"] = f"{stack.prefix}-portal-invoices"
    os.environ["REFERENCE_QUEUE"] = f"{stack.prefix}-portal-reference"
    os.environ["INSTALL_KEY_WAIT_SECONDS"] = "1"  # the host's install runs look at pending keys often
    stack.app = install_app()  # the portal's next queue client is built with the names above
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def password_hash(stack: LocalStack) -> str:
    return hash_password(PASSWORD)  # once: argon2 is slow on purpose


class Visitor(FormClient):
    """A signed-in browser without JavaScript (cookies, CSRF tokens: FormClient)."""

    def __init__(self, stack: LocalStack, account: Account) -> None:
        assert stack.host is not None
        super().__init__(stack.host.url, get_timeout=15, post_timeout=30)
        self.account = account
        self.get("/signin")
        signed_in = self.post("/signin", {"email": account.email, "password": PASSWORD})
        assert signed_in.status_code == 303, signed_in.text
        self.get("/connections")  # signing in gave the session a new CSRF secret

    def follow(self, answer: requests.Response) -> requests.Response:
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
        return self.get(answer.headers["Location"])


def _account(password_hash: str, company: str = "Kiwi Ltd") -> Account:
    store = AccountStore.from_settings(bootstrap.worker().settings)
    email = f"ana.{uuid.uuid4().hex[:8]}@example.com"
    return store.create(email, password_hash, "Ana", company, "trial", utc_now() + timedelta(days=14))


def _visitor(stack: LocalStack, password_hash: str, company: str = "Kiwi Ltd") -> Visitor:
    return Visitor(stack, _account(password_hash, company))


def _draft(account: Account, name: str = "Main") -> Connection:
    return create_connection(bootstrap.worker().connections(), account.id, name, "trial", utc_now)


def _messages(queue: Any, connection_id: str) -> list[str]:
    bodies = [str(m.content) for m in queue.peek_messages(max_messages=32)]
    return [body for body in bodies if connection_id in body]


# --- walking the sandboxes' pages ----------------------------------------------------------------------


def _xero_consent(
    stack: LocalStack, authorize_url: str, organisations: list[str], decision: str = "allow"
) -> str:
    """Tick `organisations` on the sandbox's consent page and press Allow (or Cancel): where Xero sends
    the browser back to."""
    browser = requests.Session()
    browser.trust_env = False
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
    boxes = re.findall(r'name="tenant" value="([^"]+)">\s*<label for="[^"]+">([^<]+)</label>', page.text)
    ticked = [tenant for tenant, label in boxes if unescape(label) in organisations]
    assert len(ticked) == len(organisations), boxes
    form = [*((k, unescape(v)) for k, v in hidden), *(("tenant", t) for t in ticked), ("decision", decision)]
    answer = browser.post(f"{stack.xero.url}/identity/connect/authorize", data=form, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def _microsoft_sign_in(stack: LocalStack, authorize_url: str, upn: str = ADMIN) -> str:
    browser = requests.Session()
    browser.trust_env = False
    browser.verify = str(stack.dataverse.ca_path)
    page = browser.get(authorize_url, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    request_id = _attribute(page.text, r'name="request" value="([^"]+)"')
    label_for = _attribute(page.text, rf'<label for="([^"]+)">[^<]*\({re.escape(upn)}\)</label>')
    user = _attribute(page.text, rf'id="{re.escape(label_for)}" name="user" value="([^"]+)"')
    action = _attribute(page.text, r'<form method="post" action="([^"]+)"')
    post_url = authorize_url.split("/", 3)[:3]
    answer = browser.post(
        "/".join(post_url) + action,
        data={"request": request_id, "user": user, "action": "accept"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def _attribute(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    assert match, f"{pattern} not in the page"
    return unescape(match.group(1))


def _choose_form(html: str) -> tuple[dict[str, str], dict[str, str]]:
    """(hidden fields, {label: value}) of our choose page."""
    hidden = {
        name: unescape(value)
        for name, value in re.findall(r'type="hidden" name="(pick_token|offered)" value="([^"]*)"', html)
    }
    radios = re.findall(
        r'name="choice" value="([^"]+)">\s*<label for="[^"]+">([^<]+?)(?: <span|</label>)', html
    )
    return hidden, {unescape(label): value for value, label in radios}


def _connect_xero(
    visitor: Visitor, stack: LocalStack, connection_id: str, orgs: list[str]
) -> requests.Response:
    begun = visitor.post(f"/connections/{connection_id}/xero/connect", {})
    assert begun.status_code == 303 and begun.headers["Location"].startswith(stack.xero.url)
    return visitor.get(_xero_consent(stack, begun.headers["Location"], orgs))


# --- tests -----------------------------------------------------------------------------------------


def test_the_whole_onboarding_through_the_pages(stack: LocalStack, password_hash: str) -> None:
    visitor = _visitor(stack, password_hash)
    store = bootstrap.worker().connections()

    # GIVEN a new connection, created from the list page's form
    assert "Create a new connection" in visitor.get("/connections").text
    assert "Dynamics Xero Connector" in visitor.get("/connections/new").text
    created = visitor.post(
        "/connections/new", {"product": "dynamics-xero", "name": "Kiwi NZ", "plan": "trial"}
    )
    connection_id = created.headers["Location"].rsplit("/", 1)[1]
    shown = visitor.follow(created)
    page = shown.text
    assert "Not connected to Xero" in page and "Not connected to Dynamics" in page
    # CSP's form-action also governs where a posted form redirects: "Connect to ..." must reach both
    form_action = re.search(r"form-action ([^;]+)", shown.headers["Content-Security-Policy"])
    assert form_action and {"'self'", stack.xero.url, stack.dataverse.url} == set(
        form_action.group(1).split()
    )
    assert _sync_buttons_disabled(page) == [True, True, True]
    assert "Create connection" not in _section(page, "start") and ">Start syncing</button>" in page
    refused = visitor.follow(visitor.post(f"/connections/{connection_id}/reference", {"kind": "taxrates"}))
    # the refusal is shown as an alert in the section of the button pressed (where the page jumps to)
    assert _alerts(_section(refused.text, "reference")) == [
        "Xero's lists sync once both lights are green. First: Connect to Xero; Connect to Dynamics."
    ]
    assert _alerts(refused.text.split('<section aria-labelledby="xero">')[0]) == []
    assert _messages(bootstrap.worker().reference_queue(), connection_id) == []

    # WHEN Xero is connected with two organisations allowed: the choose page, then a pick
    choose = _connect_xero(visitor, stack, connection_id, [NZ, AU])
    assert choose.status_code == 200 and "Choose the Xero organisation" in choose.text
    hidden, offered = _choose_form(choose.text)
    assert set(offered) == {NZ, AU}
    unpicked = visitor.post("/oauth/xero/choose", hidden)
    assert unpicked.status_code == 400 and "Choose an organisation." in unpicked.text
    picked = visitor.post("/oauth/xero/choose", {**hidden, "choice": offered[NZ]})
    assert picked.headers["Location"] == f"/connections/{connection_id}#xero"
    page = visitor.follow(picked).text
    assert _statuses(_section(page, "xero")) == [f"Connected to Xero: {NZ}."]
    assert f"Connected to {NZ}" in unescape(page)

    # ... and Dynamics through the Microsoft sign-in, with the environment picked
    begun = visitor.post(f"/connections/{connection_id}/dynamics/connect", {})
    assert begun.headers["Location"].startswith(stack.dataverse.url)
    choose = visitor.get(_microsoft_sign_in(stack, begun.headers["Location"]))
    assert "Choose the Dynamics 365 environment" in choose.text
    hidden, offered = _choose_form(choose.text)
    page = visitor.follow(
        visitor.post("/oauth/dynamics/choose", {**hidden, "choice": offered[PRODUCTION]})
    ).text
    assert f"{PRODUCTION}: not installed" in unescape(page)
    early = visitor.follow(visitor.post(f"/connections/{connection_id}/activate", {}))
    assert _alerts(_section(early.text, "start")) == [
        "Before this connection can start: Install into Dynamics."
    ]
    assert store.require(connection_id).status == "draft"

    # ... installed into Dynamics, whose new keys stay Pending for a while: the click returns at once and
    # the page shows the run's progress (refreshing itself) until the host's queue function has finished
    stack.dataverse.limits.update({"key_build_seconds": 2.0})
    started = visitor.follow(visitor.post(f"/connections/{connection_id}/install", {})).text
    assert _statuses(_section(started, "install")) == [
        "Install into Dynamics started. It goes on in the background; this page shows how far it got."
    ]
    progress = _section(started, "install")
    assert 'http-equiv="refresh"' in started and 'id="install-progress" role="status"' in progress
    assert re.search(r"Installing into Dynamics: \d+ of \d+ steps done\. Now: ", unescape(progress))
    run = store.require(connection_id).install.run_id
    # ... a second click while it runs (the keys take 2 s at least) starts nothing
    again = visitor.follow(visitor.post(f"/connections/{connection_id}/install", {})).text
    assert _statuses(_section(again, "install")) == [
        "Install into Dynamics is already running: this page shows how far it got."
    ]
    assert store.require(connection_id).install.run_id == run
    done_page = _when_installed(visitor, connection_id, again)
    stack.dataverse.limits.update({"key_build_seconds": 0.0})
    assert 'http-equiv="refresh"' not in done_page
    [done] = re.findall(r'<p id="install-progress" role="status">([^<]+)</p>', done_page)
    assert re.fullmatch(r"Installed into Dynamics: \d+ changes\.", done)
    assert store.require(connection_id).install.state == "done"
    installed = visitor.get(f"/connections/{connection_id}")
    assert f"Connected to {PRODUCTION}" in unescape(installed.text)
    # ... the webhook's key rotated from the page (issue 16): a new hash, the old one kept for the overlap
    before = store.require(connection_id).dynamics.webhook_key_hash
    assert "Rotate webhook key" in installed.text
    rotated = visitor.follow(visitor.post(f"/connections/{connection_id}/webhook-key", {}))
    assert "The webhook has a new key. The old key keeps working for one more hour" in rotated.text
    after = store.require(connection_id).dynamics
    assert after.webhook_key_hash != before and after.previous_webhook_key_hash == before
    assert _sync_buttons_disabled(installed.text) == [False, False, False]
    page = installed.text
    assert page.index('id="xero"') < page.index('id="install"') < page.index('id="reference"')
    assert page.index('id="reference"') < page.index('id="defaults"') < page.index('id="start"')
    assert "Subscription plan" not in _section(page, "defaults")
    assert 'id="plan"' in _section(page, "subscription")
    # before the sync, the defaults already offer Xero's lists, read live from Xero
    assert '<select id="default_account_code"' in _section(page, "defaults")

    # ... defaults: every wrong field is named, nothing saved; then good values are saved
    wrong = visitor.post(
        f"/connections/{connection_id}/defaults",
        {
            "time_zone": "Mars/Olympus",
            "invoice_status": "paid",
            "default_account_code": "1" * 11,
            "default_tax_type": "BOGUS",
        },
    )
    assert wrong.status_code == 400
    for field, words in (
        ("time_zone", "is not a time zone we know"),
        ("invoice_status", "Choose draft, submitted or authorised."),
        ("default_account_code", "Use at most 10 characters."),
        ("default_tax_type", "“BOGUS” is not an active tax rate in Xero's tax rates."),
    ):
        assert re.search(rf'id="{field}-error">.*{re.escape(words)}', unescape(wrong.text)), field
    # (the zone install proposed from the administrator's Dynamics settings, not the wrong one)
    assert store.require(connection_id).sync.time_zone == "Pacific/Auckland"
    good = {
        "time_zone": "Australia/Sydney",
        "invoice_status": "authorised",
        "numbering": "xero",
        "tax_mode": "notax",
        "create_missing_contacts": "true",
        "create_missing_items": "false",
        "require_send_flag": "false",
        "default_account_code": "200",
        "default_tax_type": "",
        "branding_theme_id": "",
    }
    saved = visitor.post(f"/connections/{connection_id}/defaults", good)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("#defaults")
    assert _statuses(_section(visitor.follow(saved).text, "defaults")) == ["Defaults saved."]
    connection = store.require(connection_id)
    assert connection.sync.time_zone == "Australia/Sydney"
    assert connection.sync.time_zone_chosen
    assert (
        connection.sync.invoice_status is InvoiceStatus.AUTHORISED
        and connection.sync.numbering is Numbering.XERO
    )
    assert connection.sync.tax_mode is TaxMode.NO_TAX
    assert connection.sync.create_missing_contacts and not connection.sync.create_missing_items

    # ... the plan, in a form of its own
    refused = visitor.post(f"/connections/{connection_id}/plan", {"plan": "gold"})
    assert refused.status_code == 400 and re.search(r'id="plan-error">.*Choose a plan\.', refused.text)
    chosen = visitor.follow(visitor.post(f"/connections/{connection_id}/plan", {"plan": "starter"}))
    assert _statuses(_section(chosen.text, "subscription")) == ["Plan saved: Starter."]
    assert store.require(connection_id).plan == "starter"

    # ... "Start syncing": active, the heading says it runs
    started = visitor.follow(visitor.post(f"/connections/{connection_id}/activate", {}))
    [running] = _statuses(_section(started.text, "start"))
    assert running.startswith("The connection is running on Starter, free trial until")
    assert '<h2 id="start">Syncing</h2>' in started.text and "Start syncing" not in started.text
    assert store.require(connection_id).status == "active"
    assert _sync_buttons_disabled(started.text) == [False, False, False]
    queued = visitor.follow(visitor.post(f"/connections/{connection_id}/reference", {"kind": "accounts"}))
    assert "Refresh queued" in _section(queued.text, "reference")
    [message] = _messages(bootstrap.worker().reference_queue(), connection_id)
    assert message == refresh_message(connection_id)

    # THEN once the refresh ran, the defaults offer Xero's lists from Dynamics
    assert handle_refresh_message(message, "test", bootstrap.worker().reference_worker()) == "refreshed"
    page = visitor.get(f"/connections/{connection_id}").text
    assert '<select id="default_account_code"' in page and '<select id="default_tax_type"' in page
    assert re.search(r'<option value="200" selected>200 — Sales</option>', page)
    listed = visitor.get("/connections").text
    assert unescape(listed).count("✓") == 2 and "Active — syncing invoices" in listed


def _install(visitor: Visitor, connection_id: str) -> tuple[str, str]:
    """Install into Dynamics from the page: (the page right after the click, the page once the run that
    the host's queue function works through has ended)."""
    first = visitor.follow(visitor.post(f"/connections/{connection_id}/install", {})).text
    return first, _when_installed(visitor, connection_id, first)


def _when_installed(visitor: Visitor, connection_id: str, page: str) -> str:
    """Reloads the page as its meta refresh does, while the install run goes on."""
    deadline = time.monotonic() + 60
    while 'http-equiv="refresh"' in page and time.monotonic() < deadline:
        time.sleep(1)
        page = visitor.get(f"/connections/{connection_id}").text
    return page


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section aria-labelledby="{name}">(.*?)</section>', page, re.S)
    assert found, f"no section {name}"
    return found.group(1)


def _notes(html: str, role: str) -> list[str]:
    return [unescape(text) for text in re.findall(rf'<p class="flash[^"]*" role="{role}">([^<]*)</p>', html)]


def _alerts(html: str) -> list[str]:
    return _notes(html, "alert")


def _statuses(html: str) -> list[str]:
    return _notes(html, "status")


def _sync_buttons_disabled(page: str) -> list[bool]:
    buttons = re.findall(r'<button type="submit" class="button button-secondary" name="kind"[^>]*>', page)
    assert len(buttons) == 3, buttons
    return [" disabled" in button for button in buttons]


def test_another_accounts_connection_is_not_found_on_every_page_and_form(
    stack: LocalStack, password_hash: str
) -> None:
    owner = _account(password_hash)
    theirs = _draft(owner, "Owner's")
    stranger = _visitor(stack, password_hash)
    stranger.get("/connections")
    before = bootstrap.worker().connections().require(theirs.id).etag

    for connection_id in (theirs.id, str(uuid.uuid4()), "not-an-id"):
        base = f"/connections/{connection_id}"
        for path in (
            base,
            f"{base}/xero/disconnect",
            f"{base}/dynamics/app",
            f"{base}/uninstall",
            f"{base}/solution.zip",
        ):
            answer = stranger.get(path)
            assert answer.status_code == 404 and "Connection not found" in answer.text, path
        for action in (
            "defaults",
            "install",
            "uninstall",
            "activate",
            "reference",
            "retry",
            "xero/connect",
            "dynamics/connect",
            "xero/disconnect",
            "dynamics/app",
        ):
            answer = stranger.post(f"{base}/{action}", {"plan": "business", "org_url": "https://x.example"})
            assert answer.status_code == 404 and "Connection not found" in answer.text, action

    assert bootstrap.worker().connections().require(theirs.id).etag == before
    assert "Owner&#39;s" not in stranger.get("/connections").text


def test_a_post_without_the_csrf_token_is_refused(stack: LocalStack, password_hash: str) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    visitor.get("/connections")

    created = visitor.post("/connections/new", {"name": "Sneaky", "plan": "trial"}, with_token=False)
    changed = visitor.post(f"/connections/{mine.id}/defaults", {"plan": "business"}, with_token=False)

    assert created.status_code == changed.status_code == 403
    assert [c.name for c in bootstrap.worker().connections().list_for_account(visitor.account.id)] == ["Main"]
    assert bootstrap.worker().connections().require(mine.id).plan == "trial"


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(stack: LocalStack) -> None:
    assert stack.host is not None
    anonymous = requests.Session()
    anonymous.trust_env = False

    answer = anonymous.get(f"{stack.host.url}/connections/{uuid.uuid4()}", allow_redirects=False, timeout=10)
    account = anonymous.get(f"{stack.host.url}/account", allow_redirects=False, timeout=10)

    assert answer.status_code == 303 and answer.headers["Location"].startswith("/signin?next=/connections/")
    assert account.headers["Location"] == "/signin?next=/account"


def test_markup_in_company_connection_and_organisation_names_shows_as_text(
    stack: LocalStack, password_hash: str
) -> None:
    visitor = _visitor(stack, password_hash, company=MARKUP)
    org = stack.xero.state.org(UK)
    real_name, org.name = org.name, f"{MARKUP} Ltd"
    try:
        created = visitor.post(
            "/connections/new", {"product": "dynamics-xero", "name": MARKUP, "plan": "trial"}
        )
        connection_id = created.headers["Location"].rsplit("/", 1)[1]
        connected = _connect_xero(visitor, stack, connection_id, [f"{MARKUP} Ltd"])
        if connected.status_code == 200:  # Xero lists every organisation this Xero user connected before
            assert (
                MARKUP not in connected.text and "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in connected.text
            )
            hidden, offered = _choose_form(connected.text)
            connected = visitor.post("/oauth/xero/choose", {**hidden, "choice": offered[f"{MARKUP} Ltd"]})
        page = visitor.follow(connected).text
    finally:
        org.name = real_name

    account_page = visitor.get("/account").text
    listed = visitor.get("/connections").text
    for html in (page, account_page, listed):
        assert MARKUP not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in page  # the organisation, in the green light
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in account_page and "&lt;script&gt;" in listed

    # and disconnecting asks first, then turns the light red
    assert "Disconnect from Xero?" in visitor.get(f"/connections/{connection_id}/xero/disconnect").text
    gone = visitor.follow(visitor.post(f"/connections/{connection_id}/xero/disconnect", {}))
    assert "Disconnected from Xero." in gone.text and "Not connected to Xero" in gone.text
    assert bootstrap.worker().connections().require(connection_id).xero.refresh_token == ""


def test_cancelling_on_xero_says_so_and_offers_try_again(stack: LocalStack, password_hash: str) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    begun = visitor.post(f"/connections/{mine.id}/xero/connect", {})

    answer = visitor.get(_xero_consent(stack, begun.headers["Location"], [], decision="cancel"))

    assert answer.status_code == 400
    refusal = r'class="[^"]*flash-error[^"]*" role="alert">You chose not to connect to Xero'
    assert re.search(refusal, answer.text)  # styled as an error, not as information
    assert (
        f'action="/connections/{mine.id}/xero/connect"' in answer.text
        and ">Try again</button>" in answer.text
    )
    again = visitor.post(f"/connections/{mine.id}/xero/connect", {})
    assert again.status_code == 303 and again.headers["Location"].startswith(stack.xero.url)
    # a callback whose state was used already is a page that says so, not an error
    replay = visitor.get(f"/oauth/xero/callback?code=x&state={uuid.uuid4().hex}")
    assert replay.status_code == 400 and "expired or was already used" in replay.text


def test_the_app_only_form_names_missing_fields_then_connects(stack: LocalStack, password_hash: str) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    visitor.get(f"/connections/{mine.id}/dynamics/app")

    empty = visitor.post(f"/connections/{mine.id}/dynamics/app", {"org_url": "http://plain.example"})
    environment = next(e for e in stack.dataverse.identity.environments if e.url_name == "contoso")
    form = {
        "org_url": stack.dataverse.env_url("contoso"),
        "tenant_id": environment.tenant_id,
        "client_id": "sandbox-ms-client",
        "client_secret": "sandbox-ms-secret",
    }
    wrong = visitor.post(f"/connections/{mine.id}/dynamics/app", {**form, "client_secret": "nope"})
    right = visitor.post(f"/connections/{mine.id}/dynamics/app", form)

    assert empty.status_code == 400 and empty.text.count("This is needed.") >= 3
    assert "Enter the environment&#39;s address" in empty.text
    assert wrong.status_code == 400 and "Microsoft refused this client id and secret" in wrong.text
    assert "sandbox-ms-secret" not in wrong.text and "nope" not in wrong.text
    assert right.status_code == 303
    assert bootstrap.worker().connections().require(mine.id).dynamics.auth_mode == "app"


def test_install_without_privileges_names_each_missing_one(stack: LocalStack, password_hash: str) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    begun = visitor.post(f"/connections/{mine.id}/dynamics/connect", {})
    choose = visitor.get(_microsoft_sign_in(stack, begun.headers["Location"], LIMITED))
    hidden, offered = _choose_form(choose.text)
    visitor.follow(visitor.post("/oauth/dynamics/choose", {**hidden, "choice": offered[PRODUCTION]}))

    _, page = _install(visitor, mine.id)

    assert "Install into Dynamics stopped at step 1 of " in page
    assert "privileges are missing (listed below) — fix: ask your Dynamics administrator" in page
    missing = re.findall(r"<li>([^<]+ — needed to [^<]+)</li>", unescape(page))
    assert missing and all(re.match(r"^[A-Z][\w ]+ — needed to ", item) for item in missing)
    assert bootstrap.worker().connections().require(mine.id).dynamics.privileges_missing
    assert f"{PRODUCTION}: privileges missing" in unescape(page)

    # the pre-flight check (issue 19.3) finds them too, read-only, once Xero is connected as well
    connected = _connect_xero(visitor, stack, mine.id, [UK])
    if connected.status_code == 200:  # the sandbox remembers earlier consents: Xero asks which one
        hidden, offered = _choose_form(connected.text)
        visitor.post("/oauth/xero/choose", {**hidden, "choice": offered[UK]})
    checked = unescape(visitor.follow(visitor.post(f"/connections/{mine.id}/check", {})).text)
    found = standing(bootstrap.worker().connections().require(mine.id))
    assert [f.key for f in found if f.key == "privileges"] == ["privileges"], re.findall(
        r"role=.(?:alert|status).>([^<]*)<", checked
    )
    [lacking] = [f for f in found if f.key == "privileges"]
    assert lacking.text.startswith("The Dynamics user lacks ") and lacking.text in checked
    assert f'/connections/{mine.id}#install">Install into Dynamics</a>' in checked


def test_activity_shows_the_day_and_retry_failed_enqueues_ids_only(
    stack: LocalStack, password_hash: str
) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    failed = [str(uuid.uuid4()), str(uuid.uuid4())]
    log = bootstrap.worker().activity()
    log.record(mine.id, failed[0], "INV-0001", "failed", "Xero says: the contact Bob Secret is archived")
    log.record(mine.id, failed[1], "INV-0002", "failed", "Xero says: account code 999 is not valid")
    log.record(mine.id, str(uuid.uuid4()), "INV-0003", "pushed")

    page = visitor.get(f"/connections/{mine.id}").text
    assert re.search(r'id="count-pushed">1<', page) and re.search(r'id="count-failed">2<', page)
    assert "INV-0002" in page and "account code 999 is not valid" in page
    retried = visitor.follow(visitor.post(f"/connections/{mine.id}/retry", {}))

    assert "Retry queued for 2 invoices." in retried.text
    bodies = _messages(bootstrap.worker().invoice_queue(), mine.id)
    events = [InvoiceEvent.from_json(body) for body in bodies]
    assert sorted(e.invoice_id or "" for e in events) == sorted(failed)
    for body, event in zip(bodies, events, strict=True):
        assert set(json.loads(body)) == set(asdict(event)) and event.received_by == "portal"
        assert "INV-" not in body and "Bob" not in body and event.received_time is not None


def test_the_account_page_keeps_billing_details(stack: LocalStack, password_hash: str) -> None:
    visitor = _visitor(stack, password_hash)
    page = visitor.get("/account").text
    assert "Free trial" in page and re.search(r"1[34] days left", page)

    wrong = visitor.post("/account", {"name": "N" * 201, "address": "1 Queen St", "tax_number": "123"})
    saved = visitor.post(
        "/account", {"name": "Kiwi Ltd", "address": "1 Queen St\nAuckland", "tax_number": "GST 1"}
    )

    assert wrong.status_code == 400 and "Use at most 200 characters." in wrong.text
    assert saved.status_code == 303 and "Billing details saved." in visitor.follow(saved).text
    billing = AccountStore.from_settings(bootstrap.worker().settings).require(visitor.account.id).billing
    assert (billing.name, billing.address, billing.tax_number) == (
        "Kiwi Ltd",
        "1 Queen St\nAuckland",
        "GST 1",
    )


def test_app_only_without_an_application_user_or_a_role_says_what_the_admin_must_do(
    stack: LocalStack, password_hash: str
) -> None:
    # GIVEN an app registered in the customer's Entra ID that nobody added to the environment
    directory = stack.dataverse.identity.directory
    app_id, secret = f"app-{uuid.uuid4().hex[:8]}", "app-secret-" + uuid.uuid4().hex
    directory.clients[app_id] = Client(app_id, secret, "Connector app", directory.tenant.id, {})
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    visitor.get(f"/connections/{mine.id}/dynamics/app")
    form = {
        "org_url": stack.dataverse.env_url("contoso"),
        "tenant_id": directory.tenant.id,
        "client_id": app_id,
        "client_secret": secret,
    }
    # WHEN its details are entered
    missing = visitor.post(f"/connections/{mine.id}/dynamics/app", form)
    # THEN the page names the missing application user and links the admin page where it is created
    assert missing.status_code == 400
    text = unescape(missing.text)
    assert f"no application user for the app {app_id}" in text and "Application users" in text
    assert 'href="https://admin.powerplatform.microsoft.com/environments"' in missing.text
    assert "not a member of the organization" not in text  # not Dataverse's raw words
    # WHEN the admin creates it without a security role
    directory.clients[app_id].application_userids["contoso"] = str(uuid.uuid4())
    directory.clients[app_id].roles["contoso"] = "none"
    roleless = visitor.post(f"/connections/{mine.id}/dynamics/app", form)
    assert roleless.status_code == 400 and "has no security role" in unescape(roleless.text)
    assert bootstrap.worker().connections().require(mine.id).dynamics.auth_mode != "app"
    # WHEN it gets a role, the same details connect
    directory.clients[app_id].roles["contoso"] = "admin"
    connected = visitor.post(f"/connections/{mine.id}/dynamics/app", form)
    assert connected.status_code == 303
    assert bootstrap.worker().connections().require(mine.id).dynamics.auth_mode == "app"


def test_the_new_connection_page_names_the_one_product_instead_of_asking(
    stack: LocalStack, password_hash: str
) -> None:
    visitor = _visitor(stack, password_hash)

    page = visitor.get("/connections/new").text

    assert (
        'type="radio" id="product' not in page and "Product: <strong>Dynamics Xero Connector</strong>" in page
    )
    assert ">Create connection</button>" in page
    created = visitor.post("/connections/new", {"product": "dynamics-xero", "name": "One", "plan": "trial"})
    assert created.status_code == 303


def test_the_application_user_form_names_the_security_role_to_assign(
    stack: LocalStack, password_hash: str
) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)

    page = visitor.get(f"/connections/{mine.id}/dynamics/app").text

    assert "assign it the security role\n  <strong>System Administrator</strong>" in page
    assert "Create Service Endpoint — needed to register the webhook" in page
    assert "the connector's security role" not in page


def test_back_to_xeros_consent_and_allow_again_says_it_is_connected(
    stack: LocalStack, password_hash: str
) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    begun = visitor.post(f"/connections/{mine.id}/xero/connect", {})
    first = visitor.get(_xero_consent(stack, begun.headers["Location"], [UK]))
    if first.status_code == 200:  # Xero lists every organisation this Xero user connected before
        hidden, offered = _choose_form(first.text)
        first = visitor.post("/oauth/xero/choose", {**hidden, "choice": offered[UK]})
    assert first.status_code == 303 and bootstrap.worker().connections().require(mine.id).xero.tenant_id
    visitor.follow(first)

    # the browser's Back shows Xero's consent page again (same state); Allow once more
    again = visitor.get(_xero_consent(stack, begun.headers["Location"], [UK]))

    assert again.status_code == 303 and again.headers["Location"] == f"/connections/{mine.id}#xero"
    page = visitor.follow(again).text
    assert "is not connected" not in page
    assert _statuses(_section(page, "xero")) == [f"Xero is connected: {UK}. That sign-in was already used."]


def test_defaults_naming_what_xero_has_not_are_refused_with_where_to_look(
    stack: LocalStack, password_hash: str
) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    store = bootstrap.worker().connections()

    # Xero not connected yet: a changed code cannot be checked, so it is not taken on trust
    unchecked = visitor.post(f"/connections/{mine.id}/defaults", {"default_account_code": "NOPE-999"})
    assert unchecked.status_code == 400
    assert "We could not read Xero's chart of accounts to check “NOPE-999”" in unescape(unchecked.text)
    unchanged = visitor.post(f"/connections/{mine.id}/defaults", {"default_account_code": "200"})
    assert unchanged.status_code == 303  # the stored default stays acceptable

    connected = _connect_xero(visitor, stack, mine.id, [UK])
    if connected.status_code == 200:
        hidden, offered = _choose_form(connected.text)
        visitor.post("/oauth/xero/choose", {**hidden, "choice": offered[UK]})
    # Xero connected, its lists not synced to Dynamics (no Dynamics yet): checked against Xero itself
    for posted, field, words in (
        ({"default_account_code": ""}, "default_account_code", "Choose the default sales account"),
        ({"default_account_code": "NOPE-999"}, "default_account_code", "“NOPE-999” is not an active sales"),
        ({"default_tax_type": "BOGUS"}, "default_tax_type", "“BOGUS” is not an active tax rate"),
        ({"branding_theme_id": str(uuid.uuid4())}, "branding_theme_id", "is not a branding theme in Xero"),
    ):
        refused = visitor.post(f"/connections/{mine.id}/defaults", posted)
        assert refused.status_code == 400, posted
        assert re.search(rf'id="{field}-error">.*{re.escape(words)}', unescape(refused.text)), posted
        assert 'role="alert"' in _section(refused.text, "defaults")
    assert store.require(mine.id).sync.default_account_code == "200"
    page = visitor.get(f"/connections/{mine.id}").text
    assert '<select id="default_account_code"' in page  # chosen from Xero's list, not typed


def test_deleting_a_connection_disconnects_xero_removes_the_webhook_and_the_row(
    stack: LocalStack, password_hash: str
) -> None:
    # GIVEN a connection connected to both sides and installed (Dynamics' webhook registered)
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account, "To delete")
    connected = _connect_xero(visitor, stack, mine.id, [AU])
    if connected.status_code == 200:
        hidden, offered = _choose_form(connected.text)
        visitor.post("/oauth/xero/choose", {**hidden, "choice": offered[AU]})
    begun = visitor.post(f"/connections/{mine.id}/dynamics/connect", {})
    choose = visitor.get(_microsoft_sign_in(stack, begun.headers["Location"]))
    hidden, offered = _choose_form(choose.text)
    visitor.follow(visitor.post("/oauth/dynamics/choose", {**hidden, "choice": offered[PRODUCTION]}))
    _install(visitor, mine.id)
    before = bootstrap.worker().connections().require(mine.id)
    assert before.dynamics.webhook_registered and before.xero.connection_id
    mine_name = endpoint_name(mine.id)
    endpoints = stack.dataverse.state.rows("contoso", "serviceendpoints")
    [mine_id] = [e["serviceendpointid"] for e in endpoints if e["name"] == mine_name]
    steps = stack.dataverse.state.rows("contoso", "sdkmessageprocessingsteps")
    assert [s for s in steps if mine_id in str(s)]  # its steps, bound to it
    others = {e["serviceendpointid"] for e in endpoints if e["name"] != mine_name}
    assert before.xero.connection_id in stack.xero.state.identity.connections

    bootstrap.worker().activity().record(mine.id, str(uuid.uuid4()), "INV-0001", "pushed")

    # WHEN the owner confirms the deletion
    asked = visitor.get(f"/connections/{mine.id}/delete")
    assert asked.status_code == 200 and "Delete this connection?" in asked.text
    deleted = visitor.post(f"/connections/{mine.id}/delete", {})

    # THEN Xero no longer lists the app, Dynamics no longer calls the webhook, and the row is gone
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/connections"
    listed = visitor.follow(deleted).text
    assert _statuses(listed) == ["Connection “To delete” deleted."] and _alerts(listed) == []
    assert bootstrap.worker().connections().get(mine.id) is None
    assert before.xero.connection_id not in stack.xero.state.identity.connections
    endpoints = stack.dataverse.state.rows("contoso", "serviceendpoints")
    assert mine_name not in {e["name"] for e in endpoints}
    assert {e["serviceendpointid"] for e in endpoints} == others  # other connections' webhooks untouched
    steps = stack.dataverse.state.rows("contoso", "sdkmessageprocessingsteps")
    assert not [s for s in steps if mine_id in str(s)]
    assert visitor.get(f"/connections/{mine.id}").status_code == 404
    assert bootstrap.worker().activity().day(mine.id) == []  # what we kept about it goes too (privacy page)


def test_uninstall_from_dynamics_asks_then_removes_only_this_connections_webhook(
    stack: LocalStack, password_hash: str
) -> None:
    # GIVEN a connection installed into Dynamics, next to another connection's webhook in the environment
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account, "To uninstall")
    begun = visitor.post(f"/connections/{mine.id}/dynamics/connect", {})
    choose = visitor.get(_microsoft_sign_in(stack, begun.headers["Location"]))
    hidden, offered = _choose_form(choose.text)
    visitor.follow(visitor.post("/oauth/dynamics/choose", {**hidden, "choice": offered[PRODUCTION]}))
    _, installed = _install(visitor, mine.id)
    assert f'href="/connections/{mine.id}/uninstall"' in installed
    # (the page also offers the solution .zip to import by hand, as a download)
    assert f'href="/connections/{mine.id}/solution.zip"' in installed
    zipped = visitor.get(f"/connections/{mine.id}/solution.zip")
    assert zipped.status_code == 200 and zipped.headers["Content-Type"].startswith("application/zip")
    assert "attachment" in zipped.headers["Content-Disposition"] and zipped.content[:2] == b"PK"
    mine_name = endpoint_name(mine.id)

    def names() -> set[str]:
        return {str(e["name"]) for e in stack.dataverse.state.rows("contoso", "serviceendpoints")}

    others = names() - {mine_name}

    # WHEN the owner opens Uninstall, is told what goes, and posts without ticking the confirmation
    asked = visitor.get(f"/connections/{mine.id}/uninstall")
    assert asked.status_code == 200 and "This cannot be undone" in unescape(asked.text)
    refused = visitor.follow(visitor.post(f"/connections/{mine.id}/uninstall", {})).text
    assert "Nothing was removed" in unescape(refused) and mine_name in names()

    # THEN with the confirmation: only this connection's webhook goes, and the connection knows it
    done = visitor.follow(visitor.post(f"/connections/{mine.id}/uninstall", {"confirm": "uninstall"}))
    assert "Uninstalled from Dynamics" in unescape(done.text)
    assert names() == others
    row = bootstrap.worker().connections().require(mine.id)
    assert not row.dynamics.webhook_registered and not row.dynamics.webhook_key_hash


def test_a_running_connection_with_a_red_light_does_not_claim_to_sync(
    stack: LocalStack, password_hash: str
) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)

    def running_but_refused(connection: Connection) -> None:
        connection.status = "active"
        connection.xero.tenant_id, connection.xero.refresh_token = "tenant", "refresh"
        connection.xero.error = Problem("Xero refused the saved sign-in (invalid_grant)", "Reconnect to Xero")

    bootstrap.worker().connections().update(mine.id, running_but_refused)

    page = visitor.get(f"/connections/{mine.id}").text

    assert re.search(
        r'<dd id="status">Active — but not syncing until the red light below is fixed</dd>', page
    )
    assert '<h2 id="start">Syncing</h2>' in page and ">Start syncing</button>" not in page


# --- the Activity page (issue 19.1) ---------------------------------------------------------------------


class _At:
    def __init__(self, when: datetime) -> None:
        self.when = when

    def __call__(self) -> datetime:
        return self.when


def _seed_activity(connection: Connection, today: int = 70) -> dict[str, str]:
    """`today` invoices today (every 7th failed, with a fix), 3 yesterday, one 40 days ago. Returns the
    failed invoice ids by number."""
    now = utc_now()
    clock = _At(now - timedelta(days=40))
    log = ActivityLog(bootstrap.worker().activity().table, clock)
    log.record(connection.id, str(uuid.uuid4()), "OLD-0001", "pushed", latency_ms=900)
    failed: dict[str, str] = {}
    for n in range(3):
        clock.when = now - timedelta(days=1, minutes=n)
        log.record(connection.id, str(uuid.uuid4()), f"YDAY-{n:04d}", "unchanged")
    for n in range(today):
        clock.when = now - timedelta(seconds=today - n)  # INV-0069 is the newest
        invoice, number = str(uuid.uuid4()), f"INV-{n:04d}"
        if n % 7 == 0:
            failed[number] = invoice
            message = (
                f'=HYPERLINK("http://evil.example") Xero says: account code {n} is archived'
                " — fix: choose another account under Defaults"
            )
            log.record(connection.id, invoice, number, "failed", message)
        else:
            xero = {"xero_invoice_id": str(uuid.uuid4()), "short_code": "!Ab1Cd", "xero_left": (48, 4870)}
            log.record(connection.id, invoice, number, "pushed", latency_ms=1200 + n, **xero)  # type: ignore[arg-type]
    return failed


def _listed(page: str) -> list[str]:
    return re.findall(r'<tr class="outcome-[a-z]+" data-invoice="([^"]+)">', page)


def test_activity_lists_newest_first_filters_pages_and_exports(stack: LocalStack, password_hash: str) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    failed = _seed_activity(mine)
    base = f"/connections/{mine.id}/activity"

    first = visitor.get(base)
    assert first.status_code == 200
    rows = _listed(first.text)
    assert rows[:2] == ["INV-0069", "INV-0068"] and len(rows) == 50  # newest first, 50 a page
    page = unescape(first.text)
    # the Xero link opens the right organisation (ShortCode), the Dynamics one the invoice's form
    assert (
        "organisationlogin/default.aspx?shortcode=%21Ab1Cd&amp;redirecturl=/AccountsReceivable/View.aspx"
        in first.text
    )
    assert f"{stack.dataverse.url}" not in page or "main.aspx?pagetype=entityrecord&etn=invoice&id=" in page
    assert "1.3 s" in page  # INV-0068's save-to-Xero latency (1268 ms)
    # at a glance (19.2): today's bars, the latency lines, and Xero's usage as it last reported it
    assert 'class="bar bar-failed"' in first.text and 'class="line line-p50"' in first.text
    assert '<span id="usage-minute">12 of 60</span>' in first.text
    older = re.search(r'href="([^"]+)" rel="next">Older invoices', first.text)
    assert older
    second = visitor.get(unescape(older.group(1)))
    assert _listed(second.text) == [f"INV-{n:04d}" for n in range(19, -1, -1)] + [
        f"YDAY-{n:04d}" for n in range(3)
    ]
    assert (
        'rel="next"' not in second.text and 'rel="prev"' in second.text
    )  # the last page; OLD is past 30 days

    only_failed = visitor.get(f"{base}?outcome=failed")
    assert _listed(only_failed.text) == sorted(failed, reverse=True)
    shown = unescape(only_failed.text)
    assert (
        "Xero says: account code 63 is archived" in shown and "choose another account under Defaults" in shown
    )
    assert only_failed.text.count(">Retry<") == len(failed)
    yesterday = (utc_now() - timedelta(days=1)).date()
    dated = visitor.get(f"{base}?from={yesterday}&to={yesterday}")
    assert _listed(dated.text) == ["YDAY-0000", "YDAY-0001", "YDAY-0002"]
    wrong = visitor.get(f"{base}?from=yesterday&outcome=lost")
    assert wrong.status_code == 400 and "Give the day as year-month-day" in wrong.text
    assert "Choose one of the outcomes listed." in wrong.text

    export = visitor.get(f"{base}.csv?outcome=failed")
    assert export.headers["Content-Disposition"].startswith('attachment; filename="activity-')
    lines = export.content.decode("utf-8-sig").splitlines()
    assert (
        lines[0]
        == "time_utc,dynamics_invoice_id,invoice_number,outcome,save_to_xero_ms,xero_invoice_id,message"
    )
    assert len(lines) == 1 + len(failed) and all(",failed,," in line for line in lines[1:])
    # a message that would run as a spreadsheet formula is exported inert
    assert all("\"'=HYPERLINK(" in line for line in lines[1:])
    everything = visitor.get(f"{base}.csv").content.decode("utf-8-sig").splitlines()
    assert len(everything) == 1 + 73


def test_retry_from_the_activity_list_queues_that_invoice_and_nothing_else(
    stack: LocalStack, password_hash: str
) -> None:
    visitor, attacker = _visitor(stack, password_hash), _visitor(stack, password_hash, "Other Ltd")
    mine = _draft(visitor.account)
    failed = _seed_activity(mine, today=15)
    page = visitor.get(f"/connections/{mine.id}/activity?outcome=failed").text
    row = re.search(r'name="row" value="([^"]+)"', page)
    assert row
    day_key = unescape(row.group(1))
    assert day_key.endswith(failed["INV-0014"])

    # another account's visitor: the page, the export and Retry are "not found", and nothing is queued
    attacker.get("/connections")  # the attacker's own CSRF token
    for path in (f"/connections/{mine.id}/activity", f"/connections/{mine.id}/activity.csv?outcome=failed"):
        answer = attacker.get(path)
        assert answer.status_code == 404 and "INV-00" not in answer.text, path
    assert attacker.post(f"/connections/{mine.id}/activity/retry", {"row": day_key}).status_code == 404
    assert _messages(bootstrap.worker().invoice_queue(), mine.id) == []

    done = visitor.post(f"/connections/{mine.id}/activity/retry", {"row": day_key, "outcome": "failed"})
    assert done.status_code == 303 and done.headers["Location"].startswith(
        f"/connections/{mine.id}/activity?outcome=failed&"
    )
    assert "Retry queued for invoice INV-0014" in unescape(visitor.follow(done).text)
    [body] = _messages(bootstrap.worker().invoice_queue(), mine.id)
    event = InvoiceEvent.from_json(body)
    assert event.invoice_id == failed["INV-0014"] and event.received_by == "portal"

    # a row this connection's activity does not hold queues nothing
    stranger = f"{day_key.split('|')[0]}|{uuid.uuid4()}"
    refused = visitor.follow(visitor.post(f"/connections/{mine.id}/activity/retry", {"row": stranger}))
    assert "That invoice is not in this connection&#39;s activity." in refused.text
    for forged in ("../x|y", "2026-13-01|" + failed["INV-0000"], ""):
        visitor.post(f"/connections/{mine.id}/activity/retry", {"row": forged})
    assert len(_messages(bootstrap.worker().invoice_queue(), mine.id)) == 1
    # without the CSRF token nothing is queued either
    forged_post = visitor.post(f"/connections/{mine.id}/activity/retry", {"row": day_key}, with_token=False)
    assert forged_post.status_code == 403
    assert len(_messages(bootstrap.worker().invoice_queue(), mine.id)) == 1


# --- the pre-flight check (issue 19.3) ------------------------------------------------------------------


def _xero_writes(stack: LocalStack) -> int:
    counts = requests.get(f"{stack.xero.url}/_sandbox/requests", timeout=10).json()
    return sum(c["count"] for c in counts if c["method"] != "GET")


def test_check_connection_finds_what_would_fail_without_writing_anything(
    stack: LocalStack, password_hash: str
) -> None:
    from dataclasses import replace

    from shared.dataverse.install_plan import endpoint_name as webhook_name
    from tests.support.dynamics_user import DynamicsUser

    # GIVEN a running connection: Dynamics offers EUR, which Demo Company (AU) has not enabled, and the
    # Dynamics customer "Northwind Traders" is a contact Xero holds archived
    visitor = _visitor(stack, password_hash)
    # (an organisation of its own: the other tests here spend Demo Company (NZ)'s minute of Xero calls)
    connection = stack.onboard(account_id=visitor.account.id, organisation=AU)
    tenant, store = connection.xero.tenant_id, bootstrap.worker().connections()
    xero = bootstrap.worker().xero_for(store.require(connection.id))
    [northwind] = xero.write(
        "PUT", "Contacts", "Contacts", [{"Name": "Northwind Traders"}], str(uuid.uuid4())
    )
    contact = northwind.element["ContactID"]
    archive = f"{stack.xero.url}/_sandbox/orgs/{tenant}/Contacts/{contact}"
    requests.patch(archive, json={"ContactStatus": "ARCHIVED"}, timeout=10).raise_for_status()
    rates = requests.get(f"{stack.xero.url}/_sandbox/orgs/{tenant}/TaxRates", timeout=10).json()
    purchases_only = next(
        r["TaxType"] for r in rates if r["CanApplyToRevenue"] is False and r["Status"] == "ACTIVE"
    )
    # ... and defaults Xero no longer agrees with: an archived account, a purchases-only tax rate, a branding
    # theme since deleted, another time zone than the organisation's
    store.update(connection.id, lambda c: setattr(c, "sync", replace(
        c.sync, default_account_code="299", default_tax_type=purchases_only,
        branding_theme_id=str(uuid.uuid4()), time_zone="Europe/London",
    )))  # fmt: skip
    # ... a Dynamics product number longer than Xero's item codes, and the webhook's step turned off
    user = DynamicsUser(stack.dataverse)
    product = user.first_id("products", "statecode eq 0")
    user.update("products", product, {"productnumber": "LONG-" + "9" * 30})
    endpoint = user.first_id("serviceendpoints", f"name eq '{webhook_name(connection.id)}'")
    step = user.first_id("sdkmessageprocessingsteps", f"_eventhandler_value eq {endpoint}")
    user.update("sdkmessageprocessingsteps", step, {"statecode": 1, "statuscode": 2})
    writes_before = _xero_writes(stack)

    # WHEN the owner presses "Check connection"
    visitor.get(f"/connections/{connection.id}")
    checked = visitor.post(f"/connections/{connection.id}/check", {})

    # THEN each finding says what and what to do, the light is amber, and nothing was written to Xero
    assert checked.status_code == 303 and checked.headers["Location"].endswith("#preflight")
    page = unescape(visitor.follow(checked).text)
    findings = {f.key: f for f in standing(store.require(connection.id))}
    assert set(findings) == {  # (the texts say why when this fails)
        "currencies", "account-archived", "tax-type", "branding-theme", "item-codes", "archived-contacts",
        "webhook-disabled", "time-zones",
    }, [f.text for f in findings.values()]  # fmt: skip
    assert "Dynamics has EUR, which Xero's organisation has not enabled" in page
    assert f"The tax rate {purchases_only} cannot be used on sales in Xero" in page
    assert "LONG-999999999999999999999999999999" in page and "Shorten the product numbers" in page
    assert "Xero's organisation keeps time in Australia/" in page
    assert "8 things would make invoices fail or differ" in page and "(findings to look at)" in page
    assert f'/connections/{connection.id}#defaults">Defaults</a>' in page
    assert f"redirecturl=/Contacts/View/{contact}" in page  # the archived contact, in the right organisation
    assert "Northwind" not in json.dumps(store.require(connection.id).preflight.findings)  # no names kept
    assert _xero_writes(stack) == writes_before
    listed = unescape(visitor.get("/connections").text)  # the list shows the amber light too
    assert "8 to fix" in listed and f"/connections/{connection.id}#preflight" in listed

    # ... a sales account changed into an expense account is the next finding once the archived one is fixed
    accounts = requests.get(f"{stack.xero.url}/_sandbox/orgs/{tenant}/Accounts", timeout=10).json()
    expense = next(a["Code"] for a in accounts if a["Type"] == "EXPENSE" and a["Status"] == "ACTIVE")
    store.update(connection.id, lambda c: setattr(c, "sync", replace(c.sync, default_account_code=expense)))
    user.delete("serviceendpoints", endpoint)  # ... and the webhook gone altogether
    visitor.post(f"/connections/{connection.id}/check", {})
    keys = {f.key for f in standing(store.require(connection.id))}
    assert {"account-type", "webhook-missing"} <= keys and "account-archived" not in keys

    # another account's visitor cannot run it (404) and learns nothing
    other = _visitor(stack, password_hash, "Other Ltd")
    other.get("/connections")
    assert other.post(f"/connections/{connection.id}/check", {}).status_code == 404


# --- Dynamics 365 on-premises (issue 18) -----------------------------------------------------------------

ONPREM_CLIENT, ONPREM_SECRET = "6a1f0c2e-3b4d-4e5f-8a9b-fabrikam0002", "adfs-portal-secret-0002"


def test_onprem_an_untrusted_certificate_is_said_on_the_page(stack: LocalStack, password_hash: str) -> None:
    """The portal as in Azure (public certificate authorities only, no TLS_CA_BUNDLE): the sandbox's
    on-premises server answers with a certificate from its private CA, which the connector does not trust."""
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    stack.dataverse.register_adfs_client(
        ONPREM_CLIENT, ONPREM_SECRET, [f"{stack.host.url}/oauth/dynamics/callback"]
    )  # type: ignore[union-attr]
    form = {
        "org_url": stack.dataverse.onprem.org_url(),
        "client_id": ONPREM_CLIENT,
        "client_secret": ONPREM_SECRET,
    }
    visitor.get(f"/connections/{mine.id}/dynamics/onprem")
    os.environ["TLS_CA_BUNDLE"] = ""
    stack.app = install_app()
    try:
        refused = visitor.post(f"/connections/{mine.id}/dynamics/onprem", form)
    finally:
        os.environ["TLS_CA_BUNDLE"] = stack.env["TLS_CA_BUNDLE"]
        stack.app = install_app()
    host = stack.dataverse.url.split("://", 1)[1]
    assert refused.status_code == 400
    assert (
        unescape(refused.text).count(
            f"{host} answered, but its certificate is not trusted. Publish Dynamics and AD FS with a "
            f"certificate from a public certificate authority that is valid for {host} and not expired."
        )
        == 2
    )  # in the summary and at the organisation URL
    assert ONPREM_SECRET not in refused.text
    assert bootstrap.worker().connections().require(mine.id).dynamics.org_url == ""
    # the same form with the trust Azure would have for a public certificate connects
    assert visitor.post(f"/connections/{mine.id}/dynamics/onprem", {**form, "mode": "app"}).status_code == 303


def test_onprem_sign_in_again_keeps_the_values_and_never_shows_the_secret(
    stack: LocalStack, password_hash: str
) -> None:
    visitor = _visitor(stack, password_hash)
    mine = _draft(visitor.account)
    stack.dataverse.register_adfs_client(
        ONPREM_CLIENT, ONPREM_SECRET, [f"{stack.host.url}/oauth/dynamics/callback"]
    )  # type: ignore[union-attr]
    org_url = stack.dataverse.onprem.org_url()
    form = {"org_url": org_url, "client_id": ONPREM_CLIENT, "client_secret": ONPREM_SECRET, "mode": "app"}
    visitor.get(f"/connections/{mine.id}/dynamics/onprem")
    assert visitor.post(f"/connections/{mine.id}/dynamics/onprem", form).status_code == 303
    connection_page = visitor.get(f"/connections/{mine.id}").text
    assert f'href="/connections/{mine.id}/dynamics/onprem">Sign in again through AD FS' in connection_page

    again = visitor.get(f"/connections/{mine.id}/dynamics/onprem")
    assert f'id="org_url" name="org_url" type="url" autocomplete="off" value="{org_url}"' in again.text
    assert f'name="client_id" type="text" autocomplete="off" value="{ONPREM_CLIENT}"' in again.text
    assert 'name="mode" value="app" checked' in again.text
    assert f'value="{stack.dataverse.url}/adfs"' in again.text
    assert ONPREM_SECRET not in again.text
    # the secret left empty: the saved one, for the same server and client identifier
    assert (
        visitor.post(f"/connections/{mine.id}/dynamics/onprem", {**form, "client_secret": ""}).status_code
        == 303
    )

    # the attack: another server typed with the secret left empty must not receive the saved secret
    stack.dataverse.counter.reset()
    elsewhere = {**form, "org_url": f"{stack.dataverse.url}/elsewhere", "client_secret": ""}
    refused = visitor.post(f"/connections/{mine.id}/dynamics/onprem", elsewhere)
    assert refused.status_code == 400 and "This is needed." in refused.text
    assert not [r for r in stack.dataverse.counter.as_list() if r["organisation"] == "adfs"]
    assert bootstrap.worker().connections().require(mine.id).dynamics.org_url == org_url
