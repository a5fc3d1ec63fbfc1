"""The account page: facts and the trial, billing details, the password, the e-mail address and deleting
the account — one page, each form in its own section, its notes and errors shown there. Its triggers:
functions/portal_connections.py (the page) and functions/portal_accounts.py (the forms)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import azure.functions as func

from shared.store.models import Account
from shared.store.plans import trial_days_left
from shared.web.pages import Page

if TYPE_CHECKING:
    from shared.billing.service import BillingService

SECTIONS = ("billing", "change-password", "change-email", "delete-account")


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
        days_left=trial_days_left(account.trial_ends_at, page.now),
        trial_ends_at=account.trial_ends_at,
        trial_over=account.trial_ends_at is not None and account.trial_ends_at <= page.now,
        form=dict(billing_form or form),
        billing=billing_view(account, page.settings),
        posted=dict(posted or {}),
        errors=dict(errors or {}),
    )
    return allow_stripe_redirects(response, page.settings)


def account_form(page: Page, account: Account) -> func.HttpResponse:
    """The page itself (GET) and its billing-details form (POST)."""
    from shared.connections.sync_form import ValidationFailed
    from shared.web.connection_actions import save_billing

    if page.method == "GET":
        return show_account(page, account)
    posted = {name: page.field(name) for name in ("name", "address", "tax_number")}
    try:
        save_billing(page.account_services.store.update, account.id, posted)
    except ValidationFailed as failed:
        return show_account(page, account, 400, failed.field_errors, billing_form=posted)
    page.flash("Billing details saved.", place="billing")
    return page.redirect("/account#billing")


# --- the page's forms: Page, the signed-in account (and collaborators) in, response out -----------------


def change_password_form(page: Page, account: Account) -> func.HttpResponse:
    from shared.accounts.settings import change_password

    changed = change_password(
        page.account_services, account, page.field("current_password"), page.field("password"),
        page.field("confirm"),
    )  # fmt: skip
    if changed.account is None:
        return show_account(page, account, 400, changed.errors)
    page.sign_in(changed.account)  # this session carries on; every other one ended
    page.flash("Your password is changed, and every other session was signed out.", place="change-password")
    return page.redirect("/account#change-password")


def change_email_form(page: Page, account: Account) -> func.HttpResponse:
    from shared.accounts.settings import request_email_change

    new_email = page.field("new_email").strip()
    changed = request_email_change(page.account_services, account, new_email, page.field("email_password"))
    if changed.account is None:
        return show_account(page, account, 400, changed.errors, posted={"new_email": new_email})
    page.flash(
        f"We sent a link to {changed.account.pending_email}. Your address changes when you open it "
        "(within 24 hours).",
        place="change-email",
    )
    return page.redirect("/account#change-email")


def delete_account_form(
    page: Page, account: Account, billing: Callable[[], BillingService]
) -> func.HttpResponse:
    from shared.accounts.settings import delete_account
    from shared.connections.connections import list_for_account
    from shared.web.connect_flows import delete_connection

    connections = list_for_account(page.parts.connections, account.id)
    context: dict[str, Any] = {"title": "Delete your account?", "connections": connections}
    if page.method == "GET":
        return page.render("delete_account.html", errors={}, **context)
    deleted = delete_account(
        page.account_services,
        account,
        page.field("delete_password"),
        [c.id for c in connections],
        lambda connection_id: delete_connection(page, account.id, connection_id),
        lambda owner: _cancel_subscription(owner, billing),
    )
    if deleted.account is None:
        return page.render("delete_account.html", 400, errors=deleted.errors, **context)
    page.sign_out()
    page.flash("Your account and its connections are deleted. Thank you for trying the connector.")
    return page.redirect("/")


def _cancel_subscription(account: Account, billing: Callable[[], BillingService]) -> str:
    """ "" when nothing is charged any more; else why the account cannot be deleted yet."""
    import stripe

    from shared.billing.client import BillingNotConfiguredError

    try:
        billing().cancel_now(account)
    except (stripe.StripeError, BillingNotConfiguredError):
        return (
            "We could not cancel your subscription at Stripe just now, so nothing was deleted. "
            "Try again in a minute."
        )
    return ""
