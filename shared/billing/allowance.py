"""Whether a connection may push an invoice now, from the account's plan and subscription and the
connection's count of invoices this calendar month (UTC). Pure: facts in, a verdict out.

A verdict to pause is not a failure: the invoice waits (the queue message comes back later) and goes by
itself once the reason is gone — a subscription, an upgrade, a paid invoice, or the month's turn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.billing.subscriptions import LIVE, PAYMENT_FAILING
from shared.store.models import Account
from shared.store.plans import PLANS, Plan, plan_named

RECHECK = timedelta(minutes=15)  # how soon a paused invoice looks again (an upgrade lifts a pause)
WARN_AT = 0.8


@dataclass(frozen=True)
class Pause:
    headline: str  # why, in one sentence (the connection page's banner)
    action: str  # what lifts it, with the link
    recheck_seconds: int

    @property
    def reason(self) -> str:
        """What is written on the Dynamics invoice."""
        return f"Waiting: {self.headline} {self.action}"


def month_key(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m")


def next_month(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)


def plan_in_force(account: Account) -> Plan:
    """The paid plan while a subscription holds one, else the trial's."""
    held = account.subscription
    live = bool(held.subscription_id) and held.status in LIVE
    plan = plan_named(account.plan) if live else None
    return plan or PLANS["trial"]


def pause_for(
    account: Account, used_this_month: int, now: datetime, grace: timedelta, upgrade_url: str
) -> Pause | None:
    held = account.subscription
    live = bool(held.subscription_id) and held.status in LIVE
    recheck = int(RECHECK.total_seconds())
    if not live and account.trial_ends_at is not None and now >= account.trial_ends_at:
        return Pause(
            f"the free trial ended on {account.trial_ends_at:%d %B %Y}.",
            f"Subscribe to send this invoice and the others waiting: {upgrade_url}",
            recheck,
        )
    if (
        live
        and held.status in PAYMENT_FAILING
        and held.payment_failed_at
        and now >= held.payment_failed_at + grace
    ):
        return Pause(
            "the subscription's last payment failed.",
            f"Update the card to send this invoice and the others waiting: {upgrade_url}",
            recheck,
        )
    plan = plan_in_force(account)
    if used_this_month >= plan.invoices_per_month:
        until_turn = int((next_month(now) - now).total_seconds()) + 1
        return Pause(
            f"this month's {plan.invoices_per_month:,} invoices of the {plan.label} plan are used.",
            f"Upgrade to send it now ({upgrade_url}), or it goes on {next_month(now):%d %B}.",
            min(recheck, until_turn),
        )
    return None


def crosses_warning(plan: Plan, before: int, after: int) -> bool:
    threshold = plan.invoices_per_month * WARN_AT
    return before < threshold <= after
