"""The invoice worker's billing checks read the account once per push (shared/billing/enforcement.py):
sent() uses the account pause() read moments before, and reads it itself only when there is none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.billing.enforcement import Enforcer
from shared.store.models import Account, Connection

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


class Accounts:
    def __init__(self, account: Account) -> None:
        self.account, self.reads = account, 0

    def get(self, account_id: str) -> Account | None:
        self.reads += 1
        return self.account if account_id == self.account.id else None


class Usage:
    def __init__(self) -> None:
        self.used = 0

    def count(self, connection_id: str, now: datetime) -> int:
        return self.used

    def add_one(self, connection_id: str, now: datetime) -> tuple[int, int]:
        self.used += 1
        return self.used - 1, self.used

    def claim_warning(self, connection_id: str, now: datetime) -> bool:
        return True


def _enforcer(accounts: Accounts, usage: Any) -> Enforcer:
    return Enforcer(accounts, usage, mailer=None, base_url="https://p.example", grace=timedelta(days=7))  # type: ignore[arg-type]


def test_a_push_reads_the_account_once_for_its_pause_check_and_its_count() -> None:
    accounts = Accounts(Account(id="acc", email="a@b.example", trial_ends_at=NOW + timedelta(days=5)))
    enforcer, connection = _enforcer(accounts, Usage()), Connection(id="c1", account_id="acc")

    for _ in range(3):
        assert enforcer.pause(connection, NOW) is None
        enforcer.sent(connection, NOW)

    assert accounts.reads == 3


def test_without_a_pause_check_before_it_the_count_reads_the_account_itself() -> None:
    accounts = Accounts(Account(id="acc", email="a@b.example", trial_ends_at=NOW + timedelta(days=5)))
    enforcer = _enforcer(accounts, Usage())

    enforcer.sent(Connection(id="c1", account_id="acc"), NOW)

    assert accounts.reads == 1
