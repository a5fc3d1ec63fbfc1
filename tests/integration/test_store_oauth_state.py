"""OAuth `state` rows on a real Azurite: single use, ten minutes, bound to one account and one flow."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from shared.config import Settings
from shared.store.oauth_state import OAuthStateStore


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def states(storage_connection: str, unique_name: str, clock: FakeClock) -> OAuthStateStore:
    settings = Settings.from_env({"AzureWebJobsStorage": storage_connection, "TABLE_PREFIX": unique_name})
    return OAuthStateStore.from_settings(settings, clock)


def test_a_state_is_random_and_consumed_once(states: OAuthStateStore) -> None:
    state = states.create("xero", "account-1", "conn-1", {"return_to": "/connections/conn-1"})
    assert len(state) >= 43
    assert state != states.create("xero", "account-1", "conn-1")

    record = states.consume(state, "xero", "account-1")

    assert record is not None
    assert (record.connection_id, record.extra) == ("conn-1", {"return_to": "/connections/conn-1"})
    assert states.consume(state, "xero", "account-1") is None


def test_racing_callbacks_with_one_state_have_exactly_one_winner(states: OAuthStateStore) -> None:
    state = states.create("dynamics", "account-1", "conn-1")
    start, results = threading.Barrier(8), list[object]()

    def callback() -> None:
        start.wait()
        results.append(states.consume(state, "dynamics", "account-1"))

    threads = [threading.Thread(target=callback) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(1 for r in results if r is not None) == 1


def test_an_expired_state_is_refused(states: OAuthStateStore, clock: FakeClock) -> None:
    state = states.create("xero", "account-1", "conn-1")
    clock.now += timedelta(minutes=10, seconds=1)

    assert states.consume(state, "xero", "account-1") is None


def test_a_state_just_inside_ten_minutes_is_accepted(states: OAuthStateStore, clock: FakeClock) -> None:
    state = states.create("xero", "account-1", "conn-1")
    clock.now += timedelta(minutes=9, seconds=59)

    assert states.consume(state, "xero", "account-1") is not None


def test_a_state_of_another_account_or_flow_is_refused_and_burnt(states: OAuthStateStore) -> None:
    other_account = states.create("xero", "account-1", "conn-1")
    other_flow = states.create("xero", "account-1", "conn-1")

    assert states.consume(other_account, "xero", "account-2") is None
    assert states.consume(other_flow, "dynamics", "account-1") is None
    assert states.consume(other_account, "xero", "account-1") is None  # burnt by the wrong presentation


def test_unknown_and_odd_states_are_refused(states: OAuthStateStore) -> None:
    assert states.consume("never-issued", "xero", "account-1") is None
    assert states.consume("", "xero", "account-1") is None
    assert states.consume("a/b#c?d", "xero", "account-1") is None


def test_purge_removes_only_expired_states(states: OAuthStateStore, clock: FakeClock) -> None:
    old = states.create("xero", "account-1", "conn-1")
    clock.now += timedelta(minutes=11)
    fresh = states.create("xero", "account-1", "conn-1")

    assert states.purge_expired() == 1
    assert states.consume(fresh, "xero", "account-1") is not None
    assert states.consume(old, "xero", "account-1") is None


def test_a_used_state_keeps_only_whose_it_was_until_it_expires(
    states: OAuthStateStore, clock: FakeClock, storage_connection: str, unique_name: str
) -> None:
    from shared.store.oauth_state import ROW_KEY
    from shared.store.tables import OAUTH_STATE, table_client
    from shared.web.connection_actions import flow_connection_id

    settings = Settings.from_env({"AzureWebJobsStorage": storage_connection, "TABLE_PREFIX": unique_name})
    table = table_client(settings, OAUTH_STATE)
    state = states.create("xero", "account-1", "conn-1", {"sealed": "encrypted tokens"})

    assert states.consume(state, "xero", "account-1") is not None

    # the used row says whose flow it was (Back + Allow leads to that connection), holds no secret,
    # and cannot be used again
    row = table.get_entity(state, ROW_KEY)
    assert row["consumed"] is True and "extra" not in row
    assert flow_connection_id(table, state, "account-1") == "conn-1"
    assert flow_connection_id(table, state, "account-2") == ""
    assert states.consume(state, "xero", "account-1") is None
    # and it goes with the expired ones
    clock.now += timedelta(minutes=11)
    assert states.purge_expired() == 1
    assert flow_connection_id(table, state, "account-1") == ""
