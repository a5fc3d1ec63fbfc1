"""Validation rules several resources share, with Xero's wording as far as it is known."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from local.sandbox.xero.orgs import Org
from local.sandbox.xero.seed_data import TAX_FLAG_OF_CLASS

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class WriteContext:
    """What one write call needs: the org, the time, unitdp, and the webhook events it caused."""

    def __init__(self, org: Org, now: datetime, unitdp: int) -> None:
        self.org = org
        self.now = now
        self.unitdp = unitdp
        self.events: list[tuple[str, str, str]] = []  # (category, type, resource id)


def too_long(data: dict[str, Any], limits: dict[str, int]) -> list[str]:
    return [
        f"{field} must not be more than {limit} characters long."
        for field, limit in limits.items()
        if len(str(data.get(field) or "")) > limit
    ]


def email_problem(value: str | None) -> list[str]:
    return [] if not value or _EMAIL.match(value) else ["Email address must be valid."]


def account_problem(org: Org, code: str) -> tuple[dict[str, Any] | None, list[str]]:
    account = org.account(code)
    if account is None or account["Status"] != "ACTIVE":
        return None, [f"Account code '{code}' is not a valid code for this document."]
    return account, []


def tax_problem(
    org: Org, tax_type: str, account: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, list[str]]:
    rate = org.tax_rate(tax_type)
    if rate is None or rate["Status"] != "ACTIVE":
        return None, [
            f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of transaction."
        ]
    if account is not None and not rate.get(f"CanApplyTo{TAX_FLAG_OF_CLASS[account['Class']]}", True):
        return None, [f"The TaxType code '{tax_type}' cannot be used with account code '{account['Code']}'."]
    return rate, []


def unit_places(unitdp: int) -> int:
    return 4 if unitdp == 4 else 2


def decimal_or_none(value: Any) -> Decimal | None:
    return value if isinstance(value, Decimal) else None
