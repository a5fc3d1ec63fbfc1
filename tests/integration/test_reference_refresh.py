"""Xero's reference data (tax rates, accounts, branding themes, tracking categories, currencies) copied
into the connector's Dynamics tables: through the timer and queue functions, on real Azurite, against the
sandbox Xero and the sandbox Dataverse over HTTP. Assertions on what Dynamics holds and on the requests
both sandboxes counted."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests
from azure.functions.timer import TimerRequest

from local.azurite import Azurite
from local.host.host import Host
from local.host.invoker import InvocationContext
from shared import bootstrap
from shared.connections.connections import create_connection
from shared.errors import RetriableError
from shared.reference.worker import refresh_message
from shared.store.models import Connection, utc_now
from tests.app_index import user_function
from tests.support.dynamics_user import DynamicsUser
from tests.support.stack import PROJECT_ROOT, LocalStack

FAST_HOST = Path(__file__).with_name("fast_host.json")
WRITES = ("POST", "PATCH", "PUT", "DELETE")
TABLES = {
    "taxrates": ("dxc_xerotaxrates", "TaxRates", "TaxType"),
    "accounts": ("dxc_xeroaccounts", "Accounts", "AccountID"),
    "brandingthemes": ("dxc_xerobrandingthemes", "BrandingThemes", "BrandingThemeID"),
    "trackingcategories": ("dxc_xerotrackingcategorys", "TrackingCategories", "TrackingCategoryID"),
    "currencies": ("dxc_xerocurrencys", "Currencies", "Code"),
}


class World:
    """Two connections, each to its own Xero organisation and its own Dynamics environment."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.nz = stack.onboard("account-nz", "Demo Company (NZ)", dynamics_env="contoso")
        self.au = stack.onboard("account-au", "Demo Company (AU)", dynamics_env="contoso-sandbox")
        self.env = {self.nz.id: "contoso", self.au.id: "contoso-sandbox"}
        self.dataverse = requests.Session()
        self.dataverse.trust_env = False
        self.dataverse.verify = str(stack.dataverse.ca_path)

    # -- Xero, as the sandbox stores it ----------------------------------------------------------------
    def xero(self, connection: Connection, collection: str) -> list[dict[str, Any]]:
        url = f"{self.stack.xero.url}/_sandbox/orgs/{connection.xero.tenant_id}/{collection}"
        return list(requests.get(url, timeout=10).json())

    def change_in_xero(self, connection: Connection, collection: str, key: str, **fields: Any) -> None:
        url = f"{self.stack.xero.url}/_sandbox/orgs/{connection.xero.tenant_id}/{collection}/{key}"
        requests.patch(url, json=fields, timeout=10).raise_for_status()

    def xero_calls(self, connection: Connection) -> int:
        counts = requests.get(f"{self.stack.xero.url}/_sandbox/requests", timeout=10).json()
        return sum(c["count"] for c in counts if c["organisation"] == connection.xero.tenant_id)

    def xero_control(self, method: str, path: str, **body: Any) -> None:
        requests.request(method, f"{self.stack.xero.url}/_sandbox/{path}", json=body, timeout=10)

    # -- Dynamics, as the sandbox stores it --------------------------------------------------------------
    def rows(self, connection: Connection, kind: str) -> dict[str, dict[str, Any]]:
        url = f"{self.stack.dataverse.url}/_sandbox/rows/{self.env[connection.id]}/{TABLES[kind][0]}"
        return {r["dxc_xeroid"]: r for r in self.dataverse.get(url, timeout=10).json()["value"]}

    def dynamics_writes(self, connection: Connection) -> int:
        url = f"{self.stack.dataverse.url}/_sandbox/requests"
        counts = self.dataverse.get(url, timeout=10).json()["requests"]
        return sum(
            c["count"]
            for c in counts
            if c["method"] in WRITES and c["organisation"] == self.env[connection.id]
        )

    # -- the connector -------------------------------------------------------------------------------
    def deliver(self, body: str) -> None:
        """As the Functions host does: the queue function with one message."""
        context = InvocationContext("reference_refresh", "functions/reference_refresh.py")
        user_function("reference_refresh")(func.QueueMessage(body=body.encode()), context)

    def refresh(self, connection: Connection) -> None:
        self.deliver(refresh_message(connection.id))

    def connection(self, connection: Connection) -> Connection:
        return bootstrap.worker().connections().require(connection.id)


def assert_matches_xero(world: World, connection: Connection, kind: str) -> None:
    """One row per Xero record, named as in Xero; a row Xero no longer has stays, inactive."""
    _, collection, key = TABLES[kind]
    in_xero = {str(record[key]): record for record in world.xero(connection, collection)}
    rows = world.rows(connection, kind)
    assert set(in_xero) <= set(rows), kind
    for xero_id, record in in_xero.items():
        assert rows[xero_id]["dxc_name"] == record.get("Name", record.get("Code")), (kind, xero_id)
    for xero_id in set(rows) - set(in_xero):
        assert (rows[xero_id]["dxc_isactive"], rows[xero_id]["dxc_status"]) == (False, "REMOVED"), xero_id


@pytest.fixture(scope="module")
def world(azurite: Azurite) -> Iterator[World]:
    stack = LocalStack(prefix="ref" + uuid.uuid4().hex[:8], azurite=azurite, host_json=FAST_HOST)
    stack.start(with_host=False)  # the real-path test starts its own host; the others call the functions
    try:
        yield World(stack)
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def calm_xero(world: World) -> Iterator[None]:
    world.xero_control("PUT", "faults", error_rate=0, slow_rate=0, lost_rate=0, latency_ms=0)
    world.stack.reset_xero_limits()
    yield
    world.xero_control("PUT", "faults", error_rate=0, slow_rate=0, lost_rate=0, latency_ms=0)
    world.stack.reset_xero_limits()


@pytest.fixture
def empty_queue(world: World) -> Any:
    queue = bootstrap.worker().reference_queue()
    queue.clear_messages()
    return queue


def test_a_refresh_fills_every_table_and_records_the_counts(world: World) -> None:
    started = utc_now()
    world.refresh(world.nz)
    for kind in TABLES:
        assert_matches_xero(world, world.nz, kind)
    rates = world.rows(world.nz, "taxrates")
    assert float(rates["OUTPUT2"]["dxc_rate"]) == 15.0 and rates["OUTPUT2"]["dxc_isactive"] is True
    accounts = {row["dxc_code"]: row for row in world.rows(world.nz, "accounts").values()}
    assert accounts["299"]["dxc_status"] == "ARCHIVED" and accounts["299"]["dxc_isactive"] is False
    assert accounts["200"]["dxc_accounttype"] == "REVENUE" and accounts["200"]["dxc_taxtype"] == "OUTPUT2"
    region = next(iter(world.rows(world.nz, "trackingcategories").values()))
    assert region["dxc_options"].split("\n") == ["East", "North", "South", "West"]
    recorded = world.connection(world.nz).reference
    assert recorded.counts == {
        kind: len(world.xero(world.nz, collection)) for kind, (_, collection, _) in TABLES.items()
    }
    assert recorded.last_refresh_at is not None and recorded.last_refresh_at >= started
    assert recorded.last_error == ""


def test_a_refresh_with_nothing_changed_in_xero_writes_nothing_and_reads_each_list_once(world: World) -> None:
    world.refresh(world.nz)  # whatever earlier tests left, Dynamics now matches Xero
    writes, calls = world.dynamics_writes(world.nz), world.xero_calls(world.nz)
    world.refresh(world.nz)
    assert world.dynamics_writes(world.nz) == writes
    # each list once; the pre-flight check after the refresh (issue 19.3) reuses them and reads only the
    # organisation and its archived contacts
    assert world.xero_calls(world.nz) - calls == len(TABLES) + 2


def test_a_tax_rate_archived_in_xero_becomes_inactive_in_dynamics_not_deleted(world: World) -> None:
    world.refresh(world.nz)
    before = world.rows(world.nz, "taxrates")["ZERORATED"]
    assert before["dxc_isactive"] is True
    world.change_in_xero(world.nz, "TaxRates", "ZERORATED", Status="ARCHIVED")
    writes = world.dynamics_writes(world.nz)
    world.refresh(world.nz)
    after = world.rows(world.nz, "taxrates")["ZERORATED"]
    assert after["dxc_xerotaxrateid"] == before["dxc_xerotaxrateid"]
    assert after["dxc_isactive"] is False and after["dxc_status"] == "ARCHIVED"
    assert world.dynamics_writes(world.nz) - writes == 1


def test_a_record_gone_from_xero_is_kept_in_dynamics_as_inactive(world: World) -> None:
    world.refresh(world.nz)
    user = DynamicsUser(world.stack.dataverse, world.env[world.nz.id])
    gone = {
        "dxc_xeroid": "RETIRED1",
        "dxc_name": "Retired rate",
        "dxc_isactive": True,
        "dxc_status": "ACTIVE",
    }
    user.session.post(user.base + "dxc_xerotaxrates", json=gone, timeout=10).raise_for_status()
    world.refresh(world.nz)
    row = world.rows(world.nz, "taxrates")["RETIRED1"]
    assert row["dxc_isactive"] is False and row["dxc_status"] == "REMOVED"
    assert row["dxc_name"] == "Retired rate"
    writes = world.dynamics_writes(world.nz)
    world.refresh(world.nz)  # inactive already: nothing more to write
    assert world.dynamics_writes(world.nz) == writes


def test_a_renamed_account_is_updated_in_place(world: World) -> None:
    world.refresh(world.nz)
    account = next(a for a in world.xero(world.nz, "Accounts") if a["Code"] == "400")
    before = world.rows(world.nz, "accounts")[account["AccountID"]]
    new_name = f"Advertising & Promotion {uuid.uuid4().hex[:6]}"
    world.change_in_xero(world.nz, "Accounts", account["AccountID"], Name=new_name)
    writes = world.dynamics_writes(world.nz)
    world.refresh(world.nz)
    after = world.rows(world.nz, "accounts")[account["AccountID"]]
    assert after["dxc_name"] == new_name
    assert after["dxc_xeroaccountid"] == before["dxc_xeroaccountid"]
    assert len(world.rows(world.nz, "accounts")) == len(world.xero(world.nz, "Accounts"))
    assert world.dynamics_writes(world.nz) - writes == 1


def test_a_failed_refresh_is_recorded_on_the_connection_and_cleared_by_the_next(
    world: World, empty_queue: Any
) -> None:
    world.refresh(world.nz)
    refreshed_at = world.connection(world.nz).reference.last_refresh_at
    world.xero_control("PUT", "faults", error_rate=1.0)
    try:
        world.refresh(world.nz)  # raising hands the message back to the queue, which delivers it again
    except RetriableError:
        pass
    failed = world.connection(world.nz).reference
    assert failed.last_error.startswith("will retry:") and "Xero" in failed.last_error
    assert failed.last_refresh_at == refreshed_at
    world.xero_control("PUT", "faults", error_rate=0)
    world.refresh(world.nz)
    recovered = world.connection(world.nz).reference
    assert recovered.last_error == ""
    assert recovered.last_refresh_at is not None and refreshed_at is not None
    assert recovered.last_refresh_at > refreshed_at


def test_a_rate_limited_organisation_is_deferred_and_holds_up_nobody(world: World, empty_queue: Any) -> None:
    nz_before, au_before = world.connection(world.nz).reference, world.connection(world.au).reference
    au_writes = world.dynamics_writes(world.au)
    _spend_the_minute_limit(world, world.au)
    empty_queue.send_message(refresh_message(world.au.id))
    empty_queue.send_message(refresh_message(world.nz.id))
    # WHEN the queue function takes both messages, as the host would (a function that returns: message done)
    messages = list(empty_queue.receive_messages(max_messages=32, visibility_timeout=30))
    assert len(messages) == 2
    for message in messages:
        world.deliver(message.content)
        empty_queue.delete_message(message)
    # THEN the organisation with calls to spare was refreshed ...
    nz = world.connection(world.nz).reference
    assert nz.last_error == "" and nz.last_refresh_at is not None
    assert nz_before.last_refresh_at is None or nz.last_refresh_at > nz_before.last_refresh_at
    assert_matches_xero(world, world.nz, "taxrates")
    # ... and the limited one waits its turn: the error on its connection, its message back on the queue but
    # invisible for the while Xero asked, and nothing written to its Dynamics
    au = world.connection(world.au).reference
    assert au.last_error.startswith("will retry:") and "limit" in au.last_error
    assert au.last_refresh_at == au_before.last_refresh_at
    assert list(empty_queue.peek_messages(max_messages=32)) == []
    assert empty_queue.get_queue_properties().approximate_message_count == 1
    assert world.dynamics_writes(world.au) == au_writes


def _spend_the_minute_limit(world: World, connection: Connection) -> None:
    """Other work of that organisation used up Xero's 60 calls a minute (not through this worker)."""
    access_token, tenant_id = bootstrap.worker().xero_tokens().access_token(connection.id)
    headers = {"Authorization": f"Bearer {access_token}", "xero-tenant-id": tenant_id}
    for _ in range(100):
        url = f"{world.stack.xero.url}/api.xro/2.0/Organisation"
        if requests.get(url, headers=headers, timeout=10).status_code == 429:
            return
    raise AssertionError("the sandbox never said 429")


def test_the_timer_enqueues_one_refresh_per_active_connection(world: World, empty_queue: Any) -> None:
    store = bootstrap.worker().connections()
    create_connection(store, "account-draft", "Never finished", "trial", utc_now)
    gone = create_connection(store, "account-gone", "Disconnected", "trial", utc_now)

    def disconnect(connection: Connection) -> None:  # it was active once: it still names both sides
        connection.xero.tenant_id = world.nz.xero.tenant_id
        connection.dynamics.org_url = world.nz.dynamics.org_url
        connection.status = "disconnected"

    store.update(gone.id, disconnect)
    timer = TimerRequest(past_due=False, schedule={"AdjustForDST": True}, schedule_status={})
    user_function("reference_refresh_timer")(timer)
    bodies = [json.loads(m.content) for m in empty_queue.peek_messages(max_messages=32)]
    assert sorted(b["connection_id"] for b in bodies) == sorted([world.nz.id, world.au.id])
    assert {b["kind"] for b in bodies} == {"reference"}


def test_the_local_host_refreshes_a_connection_put_on_the_reference_queue(
    world: World, empty_queue: Any
) -> None:
    world.refresh(world.nz)
    account = next(a for a in world.xero(world.nz, "Accounts") if a["Code"] == "404")
    new_name = f"Bank Charges {uuid.uuid4().hex[:6]}"
    world.change_in_xero(world.nz, "Accounts", account["AccountID"], Name=new_name)
    host = Host(PROJECT_ROOT, "function_app:app", port=0, host_json=FAST_HOST)
    host.prepare()
    host.start()
    try:
        empty_queue.send_message(refresh_message(world.nz.id))
        deadline = time.monotonic() + 15
        while world.rows(world.nz, "accounts")[account["AccountID"]]["dxc_name"] != new_name:
            assert time.monotonic() < deadline, "the host never refreshed the connection"
            time.sleep(0.1)
    finally:
        host.stop(grace_seconds=10)
    assert world.connection(world.nz).reference.last_error == ""
