"""The backfill end to end: years of invoices seeded in the sandbox Dynamics (local/sandbox/dataverse/
history.py), some already typed into the sandbox Xero, one customer's Xero contact archived since; the
backfill started, run by the local host's queue trigger page by page, and what Xero and Dynamics then
hold. Plus: a worker killed mid-page and the page done again, the backfill run twice, Stop, the estimate,
and the portal's section with its attack tests. Real HTTP, real Azurite."""

from __future__ import annotations

import functools
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from local.azurite import Azurite
from shared import bootstrap
from shared.accounts.passwords import hash_password
from shared.backfill import control, runner
from shared.backfill.query import OPEN_STATUS_REASONS, Selection
from shared.backfill.runner import BackfillParts, PageMessage, handle_backfill_message
from shared.dataverse import schema
from shared.store.backfills import Backfill
from shared.store.models import Account, utc_now
from shared.xero.accounting import XeroAccounting
from tests.integration.form_client import FormClient
from tests.support.dynamics_user import DynamicsUser
from tests.support.stack import LocalStack

FAST_HOST = Path(__file__).with_name("fast_host.json")
PASSWORD = "correct horse 42 battery"
ALL_OPEN = tuple(code for code, _ in OPEN_STATUS_REASONS)
E2E_UNTIL, KILL_UNTIL, STOP_UNTIL = date(2025, 6, 30), date(2023, 6, 30), date(2021, 6, 30)
YIELD_UNTIL, ANNOUNCE_UNTIL = date(2019, 6, 30), date(2017, 6, 30)


class World:
    def __init__(self, stack: LocalStack, account: Account, connection: Any) -> None:
        self.stack, self.account, self.connection = stack, account, connection
        self.user = DynamicsUser(stack.dataverse)
        self.tenant = connection.xero.tenant_id
        self.xero_url = stack.xero.url
        self.control = requests.Session()  # the sandbox Dataverse's own API, over its TLS
        self.control.trust_env, self.control.verify = False, str(stack.dataverse.ca_path)

    def seed(self, invoices: int, until: date, prefix: str) -> list[str]:
        body = {"environment": "contoso", "invoices": invoices, "until": until.isoformat(), "prefix": prefix}
        answer = self.control.post(f"{self.stack.dataverse.url}/_sandbox/history", json=body, timeout=60)
        answer.raise_for_status()
        return list(answer.json()["invoices"])

    def xero(self, collection: str) -> list[dict[str, Any]]:
        return requests.get(f"{self.xero_url}/_sandbox/orgs/{self.tenant}/{collection}", timeout=30).json()

    def xero_api(self, method: str, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """The sandbox Xero's Accounting API as a person's own Xero app (or an import) uses it."""
        grant = requests.post(f"{self.xero_url}/_sandbox/tokens", json={"tenants": [self.tenant]}, timeout=10)
        headers = {"Authorization": f"Bearer {grant.json()['access_token']}", "xero-tenant-id": self.tenant}
        answer = requests.request(
            method, f"{self.xero_url}/api.xro/2.0/{resource}", json=body, headers=headers, timeout=10
        )
        answer.raise_for_status()
        return dict(answer.json())

    def calls(self, method: str, path: str) -> int:
        counts = requests.get(f"{self.xero_url}/_sandbox/requests", timeout=10).json()
        return sum(c["count"] for c in counts if c["method"] == method and c["path"] == path)

    def rows(self, ids: list[str]) -> list[dict[str, Any]]:
        wanted = set(ids)
        found = self.control.get(
            f"{self.stack.dataverse.url}/_sandbox/rows/contoso/invoices", timeout=30
        ).json()
        return [r for r in found["value"] if r["invoiceid"] in wanted]

    def selection(self, until: date) -> Selection:
        return Selection(until - timedelta(days=400), until, ALL_OPEN)

    def parts(self, sent: list[tuple[str, int]], **changes: Any) -> BackfillParts:
        """The backfill worker with its messages kept in `sent` (not on the queue the host listens to)."""
        parts = replace(
            bootstrap.worker().backfill_worker(),
            send=lambda body, delay: sent.append((body, delay)),
            pacing=None,
        )
        return replace(parts, **{"live_backlog": lambda: 0, **changes})


@pytest.fixture(scope="module")
def world(azurite: Azurite) -> Iterator[World]:
    stack = LocalStack(
        prefix="bf" + uuid.uuid4().hex[:8], azurite=azurite, host_json=FAST_HOST, xero_seed="established"
    ).start()
    requests.put(f"{stack.xero.url}/_sandbox/limits", json={"enabled": False}, timeout=10).raise_for_status()
    try:
        account = _account("Ana")
        yield World(stack, account, stack.onboard(account_id=account.id, default_due_days=20))
    finally:
        stack.stop()


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # once: argon2 is slow on purpose


def _account(name: str) -> Account:
    email = f"{name.lower()}.{uuid.uuid4().hex[:8]}@example.com"
    store = bootstrap.worker().account_services().store
    return store.create(email, _password_hash(), name, f"{name} Ltd", "trial", utc_now() + timedelta(days=14))


def _wait_finished(connection_id: str, timeout: float = 60) -> Backfill:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = bootstrap.worker().backfills().get(connection_id)
        if job is not None and job.status != "running":
            return job
        time.sleep(0.3)
    raise AssertionError(f"the backfill did not finish: {bootstrap.worker().backfills().get(connection_id)}")


def _start(world: World, selection: Selection, total: int, sent: list[tuple[str, int]]) -> Backfill:
    """A backfill whose messages are kept in `sent` (the test delivers them)."""
    jobs = bootstrap.worker().backfills()
    return control.start(
        jobs, world.connection, selection, total, lambda b, d: sent.append((b, d)), utc_now()
    )


def _drain(parts: BackfillParts, sent: list[tuple[str, int]], limit: int = 50) -> list[str]:
    """Deliver the kept messages one by one, as the queue would (delays aside)."""
    outcomes = []
    while sent and limit:
        body, _ = sent.pop(0)
        outcomes.append(handle_backfill_message(body, parts))
        limit -= 1
    return outcomes


def test_years_of_invoices_reach_xero_once_each_with_matches_and_reasons(world: World) -> None:
    # GIVEN years of invoices in Dynamics; three of them typed into Xero by hand before the connector,
    ids = world.seed(120, E2E_UNTIL, "E")
    rows = {r["invoiceid"]: r for r in world.rows(ids)}
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for row in rows.values():
        if row["customerid"]["table"] == "account" and row["invoicenumber"].startswith("E-"):
            by_customer.setdefault(row["customerid"]["id"], []).append(row)
    customers = sorted(by_customer, key=lambda c: -len(by_customer[c]))
    typed = by_customer[customers[0]][:3]
    name = world.user.get(f"accounts({customers[0]})?$select=name")["name"]
    for row in typed:
        world.xero_api(
            "PUT",
            "Invoices",
            {"Invoices": [{"Type": "ACCREC", "Contact": {"Name": name}, "InvoiceNumber": row["invoicenumber"],
                           "Date": "2025-01-15", "DueDate": "2025-02-15", "Status": "AUTHORISED",
                           "LineItems": [{"Description": "Typed in", "Quantity": 1, "UnitAmount": 10,
                                          "AccountCode": "200"}]}]},
        )  # fmt: skip
    # and another customer whose Xero contact was archived since it was linked
    archived_customer = customers[1]
    made = world.xero_api("PUT", "Contacts", {"Contacts": [{"Name": f"Gone {uuid.uuid4().hex[:6]}"}]})
    contact_id = made["Contacts"][0]["ContactID"]
    world.xero_api("POST", "Contacts", {"Contacts": [{"ContactID": contact_id, "ContactStatus": "ARCHIVED"}]})
    world.user.update("accounts", archived_customer, {schema.CUSTOMER_XERO_CONTACT_ID: contact_id})
    xero_before = {i["InvoiceID"] for i in world.xero("Invoices")}

    # WHEN the backfill runs through the host's queue trigger
    selection = world.selection(E2E_UNTIL)
    estimate = control.estimate(bootstrap.worker().dataverse_for(world.connection), selection)
    job = control.start(
        bootstrap.worker().backfills(),
        world.connection,
        selection,
        estimate.invoices,
        bootstrap.worker().send_backfill,
        utc_now(),
    )
    job = _wait_finished(job.connection_id)

    # THEN every open invoice in range reached Xero once, or says on the invoice why not
    rows = {r["invoiceid"]: r for r in world.rows(ids)}
    open_rows = [r for r in rows.values() if r["statecode"] == 0]
    assert job.status == "done" and job.total == len(open_rows) == estimate.invoices
    assert (job.created + job.matched + job.failed + job.skipped) == len(open_rows)
    new_in_xero = [i for i in world.xero("Invoices") if i["InvoiceID"] not in xero_before]
    assert len(new_in_xero) == job.created
    numbers = Counter(i["InvoiceNumber"] for i in world.xero("Invoices") if i["Status"] != "VOIDED")
    assert all(numbers[r["invoicenumber"]] <= 1 for r in open_rows), "an invoice reached Xero twice"
    assert all(numbers[r["invoicenumber"]] == 1 for r in open_rows if r[schema.INVOICE_XERO_ID])
    for row in open_rows:
        assert row[schema.INVOICE_XERO_ID] or row[schema.INVOICE_SYNC_ERROR], row["invoicenumber"]
    # the ones typed in before are linked to what Xero holds, not copied
    typed_ids = {r["invoiceid"] for r in typed}
    linked = {rows[i][schema.INVOICE_XERO_NUMBER] for i in typed_ids}
    assert linked == {r["invoicenumber"] for r in typed} and job.matched == len(typed)
    # the archived contact, the taken numbers and the currency Xero lacks: failures with their reasons
    reasons = [rows[i][schema.INVOICE_SYNC_ERROR] for i in rows if rows[i]["statecode"] == 0]
    archived = [r for r in open_rows if r["customerid"]["id"] == archived_customer]
    assert archived and all("archived" in r[schema.INVOICE_SYNC_ERROR] for r in archived)
    assert any("Xero already has invoice INV-0003" in m for m in reasons)
    assert {p.invoice_number for p in job.problems} >= {r["invoicenumber"] for r in archived}
    # a new customer's contact id is on its Dynamics row now; paid and cancelled invoices are untouched
    assert all(not r[schema.INVOICE_SYNCED_ON] for r in rows.values() if r["statecode"] != 0)
    created = [r for r in open_rows if r[schema.INVOICE_XERO_ID] and r["invoiceid"] not in typed_ids]
    assert all(r[schema.INVOICE_SYNC_DIGEST] for r in created)

    # WHEN it runs a second time over the same range
    puts_before = world.calls("PUT", "/api.xro/2.0/Invoices")
    again = control.start(
        bootstrap.worker().backfills(),
        world.connection,
        selection,
        estimate.invoices,
        bootstrap.worker().send_backfill,
        utc_now(),
    )
    again = _wait_finished(again.connection_id)
    # THEN nothing is created twice: what is in Xero is matched, only the failures are tried again
    assert again.status == "done" and again.created == 0
    assert again.matched == job.created + job.matched and again.failed == job.failed
    assert len([i for i in world.xero("Invoices") if i["InvoiceID"] not in xero_before]) == job.created
    assert world.calls("PUT", "/api.xro/2.0/Invoices") - puts_before <= -(-job.total // 50)  # one a page


class Killed(BaseException):
    """The worker process dies here (not an exception the code could catch and tidy up after)."""


def test_a_worker_killed_mid_page_leaves_no_duplicate_when_the_page_is_done_again(world: World) -> None:
    ids = world.seed(70, KILL_UNTIL, "K")
    selection = world.selection(KILL_UNTIL)
    sent: list[tuple[str, int]] = []
    job = _start(world, selection, 70, sent)

    def dies_after_creating(connection: Any) -> XeroAccounting:
        xero = bootstrap.worker().xero_for(connection)
        write = xero.write

        def then_dies(method: str, resource: str, key: str, elements: list[Any], idem: str) -> Any:
            answer = write(method, resource, key, elements, idem)
            if resource == "Invoices":
                raise Killed()  # Xero created the page's invoices; nothing was written back
            return answer

        xero.write = then_dies  # type: ignore[method-assign,assignment]
        return xero

    # WHEN the first worker dies after Xero answered the page's PUT
    first = world.parts([], xero_for=dies_after_creating, owner="worker-1")
    body = sent.pop(0)[0]
    with pytest.raises(Killed):
        handle_backfill_message(body, first)
    killed_page = _copies(world, [r for r in world.rows(ids)])  # what the dead worker's PUT created
    assert killed_page and set(killed_page.values()) == {1}
    # THEN its message, redelivered, waits while the dead worker's lease lasts, then does the page again
    second = world.parts(sent, owner="worker-2")
    assert handle_backfill_message(body, second) == "leased"
    sent.clear()
    later = replace(second, now=lambda: utc_now() + timedelta(minutes=5))
    assert handle_backfill_message(body, later) == "page"
    _drain(later, sent)
    done = bootstrap.worker().backfills().get(job.connection_id)
    assert done is not None and done.status == "done"
    # and every invoice is in Xero once: the replayed PUT (same Idempotency-Key) created nothing new
    rows = [r for r in world.rows(ids) if r["statecode"] == 0]
    assert _copies(world, rows) == {r["invoiceid"]: 1 for r in rows if r[schema.INVOICE_XERO_ID]}

    # WHEN a new backfill (another job: Xero has never seen its keys) runs after another kill mid-page
    more = world.seed(30, KILL_UNTIL - timedelta(days=1), "L")
    sent.clear()
    older = world.selection(KILL_UNTIL - timedelta(days=1))
    job = _start(world, older, 30, sent)
    body = sent.pop(0)[0]
    with pytest.raises(Killed):
        handle_backfill_message(body, world.parts([], xero_for=dies_after_creating, owner="worker-1"))
    control.stop(bootstrap.worker().backfills(), job.connection_id, utc_now())
    _start(world, older, 30, sent)
    _drain(world.parts(sent, owner="worker-3"), sent)
    # THEN Xero's "Invoice # must be unique" finds the invoices the dead worker created: linked, not copied
    rows = [r for r in world.rows(more) if r["statecode"] == 0 and r[schema.INVOICE_XERO_ID]]
    assert len(rows) > 20 and _copies(world, rows) == {r["invoiceid"]: 1 for r in rows}


def _copies(world: World, rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many Xero invoices name each Dynamics invoice in their Url (the link back the push sends)."""
    wanted = {r["invoiceid"].lower() for r in rows}
    found: Counter[str] = Counter()
    for invoice in world.xero("Invoices"):
        url = str(invoice.get("Url") or "").lower()
        if "id=" in url and url.rsplit("id=", 1)[1] in wanted:
            found[url.rsplit("id=", 1)[1]] += 1
    return dict(found)


def test_stop_stops_after_the_page_under_way(world: World) -> None:
    world.seed(110, STOP_UNTIL, "S")
    sent: list[tuple[str, int]] = []
    job = _start(world, world.selection(STOP_UNTIL), 110, sent)
    parts = world.parts(sent)
    assert handle_backfill_message(sent.pop(0)[0], parts) == "page"
    # WHEN the person presses Stop, with the next page's message already on the queue
    control.stop(bootstrap.worker().backfills(), job.connection_id, utc_now())
    puts = world.calls("PUT", "/api.xro/2.0/Invoices")
    # THEN that message does nothing, and the row keeps what the first page did
    assert _drain(parts, sent) == ["stale"]
    stopped = bootstrap.worker().backfills().get(job.connection_id)
    assert stopped is not None and stopped.status == "stopped" and stopped.done == 50
    assert world.calls("PUT", "/api.xro/2.0/Invoices") == puts


def test_the_estimate_counts_the_range_and_prices_it_in_xero_calls(world: World) -> None:
    # the stopped backfill's range: 110 open invoices, the first page's in Xero now
    ids = world.seed(110, STOP_UNTIL, "S")  # seeding again changes nothing: their ids
    rows = [r for r in world.rows(ids) if r["statecode"] == 0]
    found = control.estimate(bootstrap.worker().dataverse_for(world.connection), world.selection(STOP_UNTIL))
    in_xero = len([r for r in rows if r[schema.INVOICE_XERO_ID]])
    assert (found.invoices, found.in_xero, found.to_send) == (110, in_xero, 110 - in_xero)
    pages = -(-found.to_send // 50)
    assert found.xero_calls == pages + 2 * min(pages, found.new_customers) + 3
    assert found.minutes == pytest.approx(max(found.xero_calls / 56, pages * control.PAGE_SECONDS / 60))
    narrower = Selection(STOP_UNTIL - timedelta(days=400), STOP_UNTIL, (1,))
    assert control.estimate(bootstrap.worker().dataverse_for(world.connection), narrower).invoices < 110

    # WHEN the range is backfilled, THEN it costs no more Xero calls than estimated
    before = _api_calls(world)
    sent: list[tuple[str, int]] = []
    _start(world, world.selection(STOP_UNTIL), found.invoices, sent)
    _drain(world.parts(sent), sent)
    # (a new customer whose name Xero holds already costs up to two lookups, which nobody can foresee)
    assert 0 < _api_calls(world) - before <= found.xero_calls + 2 * found.new_customers


def _api_calls(world: World) -> int:
    counts = requests.get(f"{world.xero_url}/_sandbox/requests", timeout=10).json()
    return sum(c["count"] for c in counts if c["path"].startswith("/api.xro/"))


class Visitor(FormClient):
    def __init__(self, world: World, account: Account) -> None:
        assert world.stack.host is not None
        super().__init__(world.stack.host.url, get_timeout=15, post_timeout=30)
        self.get("/signin")
        answer = self.post("/signin", {"email": account.email, "password": PASSWORD})
        assert answer.status_code == 303, answer.text
        self.get("/connections")


def test_the_portal_estimates_starts_shows_and_stops_and_no_one_else_can(world: World) -> None:
    owner = Visitor(world, world.account)
    page = f"/connections/{world.connection.id}"
    form = {"backfill_from": "2020-01-01", "backfill_to": "2020-12-31", "backfill_status_1": "on"}
    assert "Backfill" in owner.get(page).text
    estimated = owner.post(f"{page}/backfill/estimate", form)
    assert estimated.status_code == 200 and "0 invoices" in estimated.text
    wrong = owner.post(f"{page}/backfill/estimate", {**form, "backfill_to": "2019-01-01"})
    assert wrong.status_code == 400 and "must not be before" in wrong.text

    # another account cannot see it, start it or stop it; a form without the CSRF token is refused
    eve = Visitor(world, _account("Eve"))
    before = bootstrap.worker().backfills().get(world.connection.id)
    for action in ("estimate", "start", "stop"):
        answer = eve.post(f"{page}/backfill/{action}", form)
        assert answer.status_code == 404 and "Connection not found" in answer.text, action
    assert eve.get(page).status_code == 404
    assert owner.post(f"{page}/backfill/start", form, with_token=False).status_code == 403
    after = bootstrap.worker().backfills().get(world.connection.id)
    assert (after and after.job_id) == (before and before.job_id)

    # the owner starts it: the page shows its progress, then Stop
    started = owner.post(f"{page}/backfill/start", form)
    assert started.status_code == 303
    shown = owner.get(page).text
    assert "backfill-progress" in shown
    owner.post(f"{page}/backfill/stop", {})
    job = _wait_finished(world.connection.id)
    assert job.status in ("stopped", "done") and job.date_from == "2020-01-01"


def test_a_page_waits_while_live_pushes_pile_up_but_not_forever(world: World) -> None:
    world.seed(60, YIELD_UNTIL, "Y")
    sent: list[tuple[str, int]] = []
    job = _start(world, world.selection(YIELD_UNTIL), 60, sent)
    body = sent.pop(0)[0]
    puts = world.calls("PUT", "/api.xro/2.0/Invoices")
    # WHEN the live queue holds more than a host takes at once
    busy = world.parts(sent, live_backlog=lambda: runner.LIVE_BACKLOG)
    assert handle_backfill_message(body, busy) == "yielded"
    # THEN the page waits (a delayed copy of its message), and after enough waits it goes anyway
    waited, delay = sent.pop(0)
    assert delay == runner.YIELD_SECONDS and PageMessage.from_json(waited).yields == 1
    last = replace(PageMessage.from_json(waited), yields=runner.MAX_YIELDS).to_json()
    assert handle_backfill_message(last, busy) == "page"
    assert world.calls("PUT", "/api.xro/2.0/Invoices") > puts
    control.stop(bootstrap.worker().backfills(), job.connection_id, utc_now())


def test_a_worker_killed_between_finishing_a_page_and_announcing_the_next_is_healed(world: World) -> None:
    world.seed(60, ANNOUNCE_UNTIL, "A")
    sent: list[tuple[str, int]] = []
    job = _start(world, world.selection(ANNOUNCE_UNTIL), 60, sent)
    body = sent.pop(0)[0]

    def dies(message: str, delay: int) -> None:
        raise Killed()

    # WHEN the worker dies right after writing the page's results, before sending the next page's message
    with pytest.raises(Killed):
        handle_backfill_message(body, world.parts([], send=dies))
    after = bootstrap.worker().backfills().get(job.connection_id)
    assert after is not None and (after.step, after.kicked, after.done) == (1, 0, 50)
    # THEN its own message, redelivered, sends the next page's, and the backfill finishes
    parts = world.parts(sent)
    assert handle_backfill_message(body, parts) == "announced"
    assert _drain(parts, sent) == ["page"]
    done = bootstrap.worker().backfills().get(job.connection_id)
    assert done is not None and done.status == "done" and done.done == done.total == 60
