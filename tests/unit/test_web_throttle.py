"""Sign-in throttles: the per-account lockout and the in-process per-address window."""

from datetime import UTC, datetime, timedelta

from shared.store.models import Account
from shared.web.throttle import SlidingWindow, account_locked_for, failures_are_recent, minutes_text

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _account(failures: int, minutes_ago: float) -> Account:
    return Account(
        id="a", email="a@example.com", failed_sign_ins=failures,
        last_failed_sign_in_at=NOW - timedelta(minutes=minutes_ago),
    )  # fmt: skip


def test_five_recent_failures_lock_the_account_for_fifteen_minutes_from_the_last() -> None:
    assert account_locked_for(_account(4, 0), NOW) is None
    assert account_locked_for(_account(5, 0), NOW) == timedelta(minutes=15)
    assert account_locked_for(_account(5, 14), NOW) == timedelta(minutes=1)
    assert account_locked_for(_account(5, 15), NOW) is None


def test_old_failures_no_longer_count() -> None:
    assert failures_are_recent(_account(3, 14), NOW)
    assert not failures_are_recent(_account(3, 16), NOW)


def test_the_address_window_blocks_after_the_limit_and_frees_as_events_age() -> None:
    now = [NOW]
    window = SlidingWindow(limit=3, window=timedelta(minutes=15), clock=lambda: now[0])
    for minute in range(3):
        now[0] = NOW + timedelta(minutes=minute)
        window.record("10.0.0.1")

    assert window.blocked_for("10.0.0.1") == timedelta(minutes=13)
    assert window.blocked_for("10.0.0.2") is None
    now[0] = NOW + timedelta(minutes=15)
    assert window.blocked_for("10.0.0.1") is None


def test_the_window_forgets_the_oldest_address_when_full() -> None:
    window = SlidingWindow(limit=1, window=timedelta(minutes=15), clock=lambda: NOW, max_keys=2)
    for address in ("a", "b", "c"):
        window.record(address)

    assert window.blocked_for("a") is None
    assert window.blocked_for("b") is not None and window.blocked_for("c") is not None


def test_minutes_are_rounded_up_and_worded() -> None:
    assert minutes_text(timedelta(seconds=5)) == "1 minute"
    assert minutes_text(timedelta(minutes=14, seconds=1)) == "15 minutes"
