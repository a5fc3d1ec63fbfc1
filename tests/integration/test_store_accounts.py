"""The accounts table on a real Azurite: CRUD, one account per e-mail address, sign-in counters."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from shared.config import Settings
from shared.errors import ConcurrencyError
from shared.store.accounts import AccountStore, EmailTakenError
from shared.store.models import Account, Billing


@pytest.fixture
def accounts(storage_connection: str, unique_name: str) -> AccountStore:
    settings = Settings.from_env({"AzureWebJobsStorage": storage_connection, "TABLE_PREFIX": unique_name})
    return AccountStore.from_settings(settings)


def test_create_then_find_by_id_and_by_any_spelling_of_the_email(accounts: AccountStore) -> None:
    created = accounts.create("  Ana@Example.COM ", "argon2-hash", name="Ana", company="Kiwi Ltd")

    assert created.email == "ana@example.com"
    assert accounts.require(created.id) == created
    assert accounts.get_by_email("ANA@example.com") == created
    assert accounts.get_by_email("someone@example.com") is None


def test_the_same_email_cannot_sign_up_twice(accounts: AccountStore) -> None:
    accounts.create("ana@example.com", "hash")

    with pytest.raises(EmailTakenError):
        accounts.create("Ana@Example.com", "hash")


def test_concurrent_signups_with_one_email_create_one_account(accounts: AccountStore) -> None:
    start, outcomes = threading.Barrier(6), list[str]()

    def sign_up() -> None:
        start.wait()
        try:
            outcomes.append(accounts.create("race@example.com", "hash").id)
        except EmailTakenError:
            outcomes.append("taken")

    threads = [threading.Thread(target=sign_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [o for o in outcomes if o != "taken"]
    assert len(winners) == 1
    found = accounts.get_by_email("race@example.com")
    assert found is not None and found.id == winners[0]


def test_update_changes_profile_billing_and_verification(accounts: AccountStore) -> None:
    account = accounts.create("ana@example.com", "hash")

    def verify_and_bill(a: Account) -> None:
        a.email_verified, a.plan = True, "standard"
        a.billing = Billing("Kiwi Ltd", "1 Queen St, Auckland", "123-456-789")

    accounts.update(account.id, verify_and_bill)

    loaded = accounts.require(account.id)
    assert loaded.email_verified and loaded.plan == "standard"
    assert loaded.billing.tax_number == "123-456-789"


def test_a_stale_save_raises_concurrency_error(accounts: AccountStore) -> None:
    first = accounts.create("ana@example.com", "hash")
    second = accounts.require(first.id)
    first.name = "first"
    accounts.save(first)

    second.name = "second"
    with pytest.raises(ConcurrencyError):
        accounts.save(second)


def test_failed_sign_ins_count_up_and_reset(accounts: AccountStore) -> None:
    account = accounts.create("ana@example.com", "hash")
    at = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)

    accounts.record_failed_sign_in(account.id, at)
    counted = accounts.record_failed_sign_in(account.id, at)
    assert (counted.failed_sign_ins, counted.last_failed_sign_in_at) == (2, at)

    reset = accounts.reset_failed_sign_ins(account.id)
    assert (reset.failed_sign_ins, reset.last_failed_sign_in_at) == (0, None)


def test_change_email_moves_the_unique_address(accounts: AccountStore) -> None:
    account = accounts.create("old@example.com", "hash")
    accounts.update(account.id, lambda a: setattr(a, "email_verified", True))
    accounts.create("taken@example.com", "hash")

    with pytest.raises(EmailTakenError):
        accounts.change_email(account.id, "taken@example.com")
    moved = accounts.change_email(account.id, "New@example.com")

    assert (moved.email, moved.email_verified) == ("new@example.com", False)
    assert accounts.get_by_email("new@example.com") == moved
    assert accounts.get_by_email("old@example.com") is None
    assert accounts.create("old@example.com", "hash").email == "old@example.com"  # freed


def test_update_refuses_to_change_the_email_behind_the_index(accounts: AccountStore) -> None:
    account = accounts.create("ana@example.com", "hash")

    with pytest.raises(ValueError, match="change_email"):
        accounts.update(account.id, lambda a: setattr(a, "email", "eve@example.com"))


def test_delete_frees_the_address(accounts: AccountStore) -> None:
    account = accounts.create("ana@example.com", "hash")

    accounts.delete(account.id)

    assert accounts.get(account.id) is None
    assert accounts.get_by_email("ana@example.com") is None
    assert accounts.create("ana@example.com", "hash").id != account.id
