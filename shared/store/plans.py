"""The plans a connection can be on, with their limits and prices, in one place.

Every new connection starts a 14-day trial of the plan chosen on "Create connection". The trial ending
does not stop syncing (there is no billing yet): the page shows a banner instead (see lights.trial_status).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

TRIAL_LENGTH = timedelta(days=14)


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
