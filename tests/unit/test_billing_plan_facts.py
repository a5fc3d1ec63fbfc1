"""The connection page's plan and trial lines when billing is on (shared/web/billing_actions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.store.models import Account, Subscription
from shared.web.billing_actions import plan_facts

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
OLD = ("Starter", "Your free trial ended on 01 December 2026. Invoices still sync; ...")


def _account(trial_left: timedelta, status: str = "", plan: str = "trial") -> Account:
    held = Subscription("cus_1", "sub_1" if status else "", status)
    return Account(id="a", email="a@b.example", plan=plan, trial_ends_at=NOW + trial_left, subscription=held)


def test_without_billing_the_connections_own_lines_stay() -> None:
    assert plan_facts(_account(-timedelta(days=1)), *OLD, NOW, billing_on=False) == OLD


def test_an_ended_trial_says_invoices_wait_not_that_they_still_sync() -> None:
    plan, trial = plan_facts(_account(-timedelta(days=1)), *OLD, NOW, billing_on=True)

    assert plan == "Free trial" and "new invoices wait until you choose a plan" in trial


def test_a_live_subscription_shows_its_plan_and_no_trial_line() -> None:
    assert plan_facts(_account(-timedelta(days=1), "active", "business"), *OLD, NOW, billing_on=True) == (
        "Business",
        "",
    )


def test_a_running_trial_says_until_when_and_its_allowance() -> None:
    plan, trial = plan_facts(_account(timedelta(days=3)), *OLD, NOW, billing_on=True)

    assert plan == "Free trial" and trial.startswith("Free until 11 December 2026 (100 invoices a month)")
