"""The account page: facts and the trial, billing details, the password, the e-mail address and deleting
the account — one page, each form in its own section, its notes and errors shown there."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

import azure.functions as func

from shared.store.models import Account
from shared.web.pages import Page

SECTIONS = ("billing", "change-password", "change-email", "delete-account")


def days_left(ends_at: datetime | None, now: datetime) -> int | None:
    """Whole days left, rounded up: 14 just after a 14-day trial began, 1 on its last day, 0 after."""
    if ends_at is None:
        return None
    return max(0, math.ceil((ends_at - now).total_seconds() / 86400))


def show_account(
    page: Page,
    account: Account,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    billing_form: Mapping[str, str] | None = None,
    posted: Mapping[str, str] | None = None,
) -> func.HttpResponse:
    from shared.web.billing_actions import allow_stripe_redirects, billing_view
    from shared.web.connection_views import plan_label

    stored = account.billing
    form = {"name": stored.name, "address": stored.address, "tax_number": stored.tax_number}
    response = page.render(
        "account.html",
        status,
        places=SECTIONS,
        title="Your account",
        plan=plan_label(account.plan),
        days_left=days_left(account.trial_ends_at, page.now),
        trial_ends_at=account.trial_ends_at,
        trial_over=account.trial_ends_at is not None and account.trial_ends_at <= page.now,
        form=dict(billing_form or form),
        billing=billing_view(account, page.settings),
        posted=dict(posted or {}),
        errors=dict(errors or {}),
    )
    return allow_stripe_redirects(response, page.settings)
