"""The portal's connection pages and forms: the list, a new connection, the defaults and the plan,
deleting, Install into Dynamics (and a new webhook key), "Create connection", the reference-data button
and retrying the day's failures. Page and the signed-in account in, response out; the collaborators come
as page.parts, the queues as arguments. Their triggers: functions/portal_connections.py."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from shared.store.models import Account
from shared.web.connection_actions import Send
from shared.web.pages import Page


def list_page(page: Page, account: Account) -> func.HttpResponse:
    from shared.connections.connections import list_for_account
    from shared.web.connection_views import STATUS_TEXT, light_views, plan_label

    rows = [
        {
            "connection": c,
            "lights": light_views(c, page.now),
            "status": STATUS_TEXT[c.status],
            "plan": plan_label(c.plan),
            "findings": len(c.preflight.findings),  # the pre-flight check's amber light (issue 19.3)
        }
        for c in list_for_account(page.parts.connections, account.id)
    ]
    return page.render("connections.html", title="Your connections", rows=rows)


def new_connection(page: Page, account: Account) -> func.HttpResponse:
    from shared.connections.connections import create_connection
    from shared.connections.sync_form import ValidationFailed
    from shared.store.plans import DEFAULT_PLAN
    from shared.web.connection_views import PRODUCT, plan_choices

    form = {"product": PRODUCT[0], "name": "", "plan": DEFAULT_PLAN, **page.form}
    # One product today: it is named on the page, not asked (a hidden field keeps the form's shape).
    context: dict[str, Any] = {
        "title": "Create a new connection",
        "form": form,
        "plans": plan_choices(),
        "product": PRODUCT,
    }
    if page.method == "GET":
        return page.render("connection_new.html", errors={}, **context)
    errors = {} if form["product"] == PRODUCT[0] else {"product": "Choose the product."}
    try:
        if errors:
            raise ValidationFailed(errors)
        created = create_connection(
            page.parts.connections, account.id, form["name"], form["plan"], lambda: page.now
        )
    except ValidationFailed as failed:
        return page.render("connection_new.html", 400, errors={**errors, **failed.field_errors}, **context)
    page.flash(f"Connection “{created.name}” created as a draft. Connect both sides, then start it.")
    return page.redirect(f"/connections/{created.id}")


def save_defaults_form(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.connections.sync_form import ValidationFailed
    from shared.web.connection_actions import save_defaults
    from shared.web.connection_page import show_connection, xero_lists_for

    form = {name: value for name, value in page.form.items() if name != "plan"}  # the plan has its form
    try:
        save_defaults(
            page.parts.connections, account.id, connection_id, form, lambda c: xero_lists_for(c, page.parts)
        )
    except ValidationFailed as failed:
        return show_connection(page, account, connection_id, 400, page.form, failed.field_errors)
    page.flash("Defaults saved.", place="defaults")
    return page.redirect(f"/connections/{connection_id}#defaults")


def save_plan_form(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.connections.sync_form import ValidationFailed
    from shared.web.connection_actions import save_plan
    from shared.web.connection_page import show_connection
    from shared.web.connection_views import plan_label

    try:
        saved = save_plan(page.parts.connections, account.id, connection_id, page.field("plan"))
    except ValidationFailed as failed:
        return show_connection(page, account, connection_id, 400, page.form, failed.field_errors)
    page.flash(f"Plan saved: {plan_label(saved.plan)}.", place="subscription")
    return page.redirect(f"/connections/{connection_id}#subscription")


def delete_connection_form(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.connections.connections import get_for_account
    from shared.web.connect_flows import delete_connection

    connection = get_for_account(page.parts.connections, account.id, connection_id)
    if page.method == "GET":
        return page.render("delete_connection.html", title="Delete this connection?", connection=connection)
    left = delete_connection(page, account.id, connection_id)
    page.flash(f"Connection “{connection.name}” deleted.")
    for problem in left:
        page.flash(problem, error=True)
    return page.redirect("/connections")


def solution_download(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    """The Xero Connector solution .zip, for admins who import it themselves (then Install into Dynamics
    registers only the webhook). Signed in and this account's connection only, like every page here."""
    from shared.connections.connections import get_for_account
    from shared.dataverse.solution_package import FILE_NAME, package
    from shared.web.responses import download

    get_for_account(page.parts.connections, account.id, connection_id)
    return download(package(), FILE_NAME, "application/zip")


def uninstall_form(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    """Uninstall from Dynamics: GET asks (it deletes the Xero data held in Dynamics), POST does it."""
    from shared.connections.connections import get_for_account
    from shared.connections.uninstall_service import uninstall_for_account
    from shared.errors import ConnectorError, NotFoundError, RetriableError

    connection = get_for_account(page.parts.connections, account.id, connection_id)
    back = f"/connections/{connection_id}#install"
    if page.method == "GET":
        return page.render("uninstall_dynamics.html", title="Uninstall from Dynamics?", connection=connection)
    if page.field("confirm") != "uninstall":
        page.flash("Nothing was removed: tick the box to confirm the uninstall.", error=True, place="install")
        return page.redirect(back)
    try:
        report = uninstall_for_account(
            page.parts.connections, account.id, connection_id, page.settings, page.parts.session
        )
    except (NotFoundError, RetriableError):
        raise
    except ConnectorError as refused:
        why = getattr(refused, "reason", refused)
        page.flash(f"Uninstall from Dynamics did not run: {why}", error=True, place="install")
        return page.redirect(back)
    removed = len(report.removed)
    page.flash(
        f"Uninstalled from Dynamics: {removed} part{'s' if removed != 1 else ''} removed."
        if removed
        else "Uninstalled from Dynamics: nothing of the connector was left there.",
        place="install",
    )
    for kept in report.kept:
        page.flash(kept, place="install")
    return page.redirect(back)


def install_form(page: Page, account: Account, connection_id: str, send: Send) -> func.HttpResponse:
    """Install into Dynamics: records a run and queues it (functions/dynamics_install.py does the work);
    the connection page then shows its progress."""
    from shared.connections.install_job import AlreadyRunning, start_install
    from shared.errors import ConnectorError, NotFoundError

    back = f"/connections/{connection_id}#install"
    try:
        start_install(
            page.parts.connections, account.id, connection_id, lambda body, _: send(body), lambda: page.now
        )
    except NotFoundError:
        raise
    except AlreadyRunning as running:
        page.flash(str(running) + ".", place="install")
        return page.redirect(back)
    except ConnectorError as refused:
        page.flash(f"Install into Dynamics did not run: {refused}", error=True, place="install")
        return page.redirect(back)
    page.flash(
        "Install into Dynamics started. It goes on in the background; this page shows how far it got.",
        place="install",
    )
    return page.redirect(back)


def rotate_key_form(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    """ "Rotate webhook key": installs again at once (everything else is in place), with a new key."""
    from shared.connections.install_service import install_for_account
    from shared.errors import ConnectorError, NotFoundError, RetriableError

    store, back = page.parts.connections, f"/connections/{connection_id}#install"
    try:
        outcome = install_for_account(
            store,
            account.id,
            connection_id,
            page.settings,
            page.parts.session,
            rotate_key=True,
            xero_for=page.parts.xero_for,
        )
    except (NotFoundError, RetriableError):
        raise
    except ConnectorError as refused:  # not signed in, sign-in refused (the light is red now), ...
        why = getattr(refused, "reason", refused)
        page.flash(f"A new webhook key was not given: {why}", error=True, place="install")
        return page.redirect(back)
    if outcome.missing_privileges and not outcome.changes:
        page.flash("A new webhook key was not given: privileges are missing (listed below).", error=True,
                   place="install")  # fmt: skip
    else:
        page.flash(
            "The webhook has a new key. The old key keeps working for one more hour, then stops.",
            place="install",
        )
    for problem in outcome.problems:
        page.flash(problem, error=True, place="install")
    return page.redirect(back)


def activate_form(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.connections.connections import NotReadyToActivate, activate
    from shared.web.connection_views import plan_label

    try:
        connection = activate(page.parts.connections, account.id, connection_id, lambda: page.now)
    except NotReadyToActivate as not_ready:
        page.flash(str(not_ready), error=True, place="start")
        return page.redirect(f"/connections/{connection_id}#start")
    ends = f", free trial until {connection.trial_ends_at:%d %B %Y}" if connection.trial_ends_at else ""
    page.flash(f"The connection is running on {plan_label(connection.plan)}{ends}.", place="start")
    from shared.web.preflight_pages import check_now  # the pre-flight check runs on start (issue 19.3)

    found = check_now(page, account, connection)
    if found:
        page.flash(
            f"Pre-flight check: {found} thing{'s' if found != 1 else ''} would make invoices fail or differ.",
            place="preflight",
        )
    return page.redirect(f"/connections/{connection_id}#start")


def reference_form(page: Page, account: Account, connection_id: str, send: Send) -> func.HttpResponse:
    from shared.web.connection_actions import NotActiveYet, queue_reference_refresh

    try:
        queue_reference_refresh(page.parts.connections, account.id, connection_id, send)
    except NotActiveYet as not_yet:
        page.flash(str(not_yet), error=True, place="reference")
        return page.redirect(f"/connections/{connection_id}#reference")
    page.flash(
        "Refresh queued: Xero's tax rates, account codes and branding themes reach Dynamics shortly.",
        place="reference",
    )
    return page.redirect(f"/connections/{connection_id}#reference")


def retry_form(page: Page, account: Account, connection_id: str, send: Send) -> func.HttpResponse:
    from shared.web.connection_actions import retry_failed

    count = retry_failed(
        page.parts.connections, page.parts.activity, account.id, connection_id, send, page.now
    )
    page.flash(
        f"Retry queued for {count} invoice{'s' if count != 1 else ''}."
        if count
        else "No invoice failed today.",
        place="activity",
    )
    return page.redirect(f"/connections/{connection_id}#activity")
