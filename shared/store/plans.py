"""The plans a connection can be on, with their limits and prices, in one place.

Every new connection starts a 14-day trial of the plan chosen on "Create connection". What its end does
is billing's to decide (shared/billing/allowance.py); the connection page's banner is lights.trial_status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

TRIAL_LENGTH = timedelta(days=14)


def trial_days_left(ends_at: datetime | None, now: datetime) -> int | None:
    """Whole days left, rounded up: 14 just after a 14-day trial began, 1 on its last day, 0 after."""
    if ends_at is None:
        return None
    return max(0, math.ceil((ends_at - now).total_seconds() / 86400))


@dataclass(frozen=True)
class Plan:
    name: str  # stored on the connection
    label: str
    monthly_price_cents: int  # excluding tax, in the currency below
    currency: str
    invoices_per_month: int
    is_trial: bool = False


PLANS: dict[str, Plan] = {
    plan.name: plan
    for plan in (
        Plan("trial", "Free trial", 0, "USD", 100, is_trial=True),
        Plan("starter", "Starter", 1900, "USD", 500),
        Plan("business", "Business", 4900, "USD", 5000),
    )
}
DEFAULT_PLAN = "trial"


def plan_named(name: str) -> Plan | None:
    return PLANS.get(name.strip().lower())
