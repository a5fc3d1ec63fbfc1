"""When a connection's invoices must wait, and for how long (shared/billing/allowance.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.billing.allowance import crosses_warning, next_month, pause_for
from shared.store.models import Account, Subscription
from shared.store.plans import PLANS

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
GRACE = timedelta(days=7)
URL = "https://portal.example/account#subscription"


def _account(
    plan: str = "trial", status: str = "", trial_left: timedelta = timedelta(days=5), **sub: object
) -> Account:
    held = Subscription(subscription_id="sub_1" if status else "", status=status, **sub)  # type: ignore[arg-type]
    return Account(id="a", email="a@b.example", plan=plan, trial_ends_at=NOW + trial_left, subscription=held)


def test_within_the_trial_and_under_the_limit_nothing_waits() -> None:
    assert pause_for(_account(), 99, NOW, GRACE, URL) is None


def test_the_trials_limit_pauses_until_the_months_turn_or_an_upgrade() -> None:
    pause = pause_for(_account(), 100, NOW, GRACE, URL)

    assert pause is not None and "100 invoices of the Free trial plan are used" in pause.reason
    assert URL in pause.reason and "01 January" in pause.reason
    assert pause.recheck_seconds == 15 * 60


def test_near_the_months_end_the_recheck_is_the_turn_itself() -> None:
    late = datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)

    pause = pause_for(_account("starter", "active"), 500, late, GRACE, URL)

    assert pause is not None and pause.recheck_seconds == 31
    assert next_month(late) == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_paid_plan_lifts_the_trials_limit() -> None:
    assert pause_for(_account("starter", "active"), 100, NOW, GRACE, URL) is None
    assert pause_for(_account("starter", "active"), 500, NOW, GRACE, URL) is not None
    assert pause_for(_account("business", "active"), 500, NOW, GRACE, URL) is None


def test_the_trials_end_without_a_subscription_pauses_and_a_subscription_lifts_it() -> None:
    ended = _account(trial_left=-timedelta(hours=1))

    pause = pause_for(ended, 0, NOW, GRACE, URL)

    assert pause is not None and "free trial ended" in pause.reason
    assert (
        pause_for(_account("starter", "active", trial_left=-timedelta(hours=1)), 0, NOW, GRACE, URL) is None
    )
    cancelled = _account("starter", "canceled", trial_left=-timedelta(days=40))
    assert pause_for(cancelled, 0, NOW, GRACE, URL) is not None


def test_a_failed_payment_pauses_only_after_the_grace_period() -> None:
    within = _account("starter", "past_due", payment_failed_at=NOW - timedelta(days=6))
    after = _account("starter", "past_due", payment_failed_at=NOW - timedelta(days=7))

    assert pause_for(within, 0, NOW, GRACE, URL) is None
    pause = pause_for(after, 0, NOW, GRACE, URL)
    assert pause is not None and "payment failed" in pause.reason


def test_the_warning_fires_once_when_80_percent_is_crossed() -> None:
    starter = PLANS["starter"]
    assert [crosses_warning(starter, n, n + 1) for n in (398, 399, 400)] == [False, True, False]
