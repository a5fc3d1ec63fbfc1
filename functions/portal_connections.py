"""The portal's connection pages: the list, a new connection, the connection page with its defaults,
Install into Dynamics, "Create connection", the reference-data buttons and the day's activity; and the
account page. Each trigger parses, calls one service, renders. Connecting the sides: oauth_callbacks.py."""

from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions._signed_in import route_id as _id
from functions._signed_in import serve as _serve

if TYPE_CHECKING:
    from shared.store.models import Account
    from shared.web.pages import Page

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS


@bp.route(route="connections", methods=["GET"], auth_level=ANONYMOUS)
def portal_connections(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _list)


# Registered before connections/{id}: the literal route must win (as it does in Azure's router).
@bp.route(route="connections/new", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_connection_new(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _new)


@bp.route(route="connections/{id}", methods=["GET"], auth_level=ANONYMOUS)
def portal_connection(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web.connection_page import show_connection

    return _serve(req, lambda page, account: show_connection(page, account, _id(req)))


@bp.route(route="connections/{id}/defaults", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_defaults(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page, account: _defaults(page, account, _id(req)))


@bp.route(route="connections/{id}/plan", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_plan(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page, account: _plan(page, account, _id(req)))


@bp.route(route="connections/{id}/delete", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_connection_delete(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page, account: _delete(page, account, _id(req)))


@bp.route(route="connections/{id}/install", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_install(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page, account: _install(page, account, _id(req)))


@bp.route(route="connections/{id}/webhook-key", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_webhook_key(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page, account: _install(page, account, _id(req), rotate=True))


@bp.route(route="connections/{id}/activate", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_activate(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page, account: _activate(page, account, _id(req)))


@bp.route(route="connections/{id}/reference", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_reference(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page, account: _reference(page, account, _id(req)))


@bp.route(route="connections/{id}/retry", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_retry(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page, account: _retry(page, account, _id(req)))


@bp.route(route="account", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_account(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _account)


# --- handlers: Page and the signed-in account in, response out ------------------------------------------


def _list(page: "Page", account: "Account") -> func.HttpResponse:
    from shared import bootstrap
    from shared.connections.connections import list_for_account
    from shared.web.connection_views import STATUS_TEXT, light_views, plan_label

    rows = [
        {
            "connection": c,
            "lights": light_views(c, page.now),
            "status": STATUS_TEXT[c.status],
            "plan": plan_label(c.plan),
        }
        for c in list_for_account(bootstrap.connections(), account.id)
    ]
    return page.render("connections.html", title="Your connections", rows=rows)


def _new(page: "Page", account: "Account") -> func.HttpResponse:
    from shared import bootstrap
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
            bootstrap.connections(), account.id, form["name"], form["plan"], lambda: page.now
        )
    except ValidationFailed as failed:
        return page.render("connection_new.html", 400, errors={**errors, **failed.field_errors}, **context)
    page.flash(f"Connection “{created.name}” created as a draft. Connect both sides, then start it.")
    return page.redirect(f"/connections/{created.id}")


def _defaults(page: "Page", account: "Account", connection_id: str) -> func.HttpResponse:
    from shared import bootstrap
    from shared.connections.sync_form import ValidationFailed
    from shared.web.connection_actions import save_defaults
    from shared.web.connection_page import show_connection, xero_lists_for

    form = {name: value for name, value in page.form.items() if name != "plan"}  # the plan has its form
    try:
        save_defaults(
            bootstrap.connections(), account.id, connection_id, form, lambda c: xero_lists_for(c, page.parts)
        )
    except ValidationFailed as failed:
        return show_connection(page, account, connection_id, 400, page.form, failed.field_errors)
    page.flash("Defaults saved.", place="defaults")
    return page.redirect(f"/connections/{connection_id}#defaults")


def _plan(page: "Page", account: "Account", connection_id: str) -> func.HttpResponse:
    from shared import bootstrap
    from shared.connections.sync_form import ValidationFailed
    from shared.web.connection_actions import save_plan
    from shared.web.connection_page import show_connection
    from shared.web.connection_views import plan_label

    try:
        saved = save_plan(bootstrap.connections(), account.id, connection_id, page.field("plan"))
    except ValidationFailed as failed:
        return show_connection(page, account, connection_id, 400, page.form, failed.field_errors)
    page.flash(f"Plan saved: {plan_label(saved.plan)}.", place="subscription")
    return page.redirect(f"/connections/{connection_id}#subscription")


def _delete(page: "Page", account: "Account", connection_id: str) -> func.HttpResponse:
    from shared import bootstrap
    from shared.connections.connections import get_for_account
    from shared.web.connect_flows import delete_connection

    connection = get_for_account(bootstrap.connections(), account.id, connection_id)
    if page.method == "GET":
        return page.render("delete_connection.html", title="Delete this connection?", connection=connection)
    left = delete_connection(page, account.id, connection_id)
    page.flash(f"Connection “{connection.name}” deleted.")
    for problem in left:
        page.flash(problem, error=True)
    return page.redirect("/connections")


def _install(page: "Page", account: "Account", connection_id: str, rotate: bool = False) -> func.HttpResponse:
    """Install into Dynamics; `rotate`: the same, giving the webhook a new key ("Rotate webhook key")."""
    from shared import bootstrap
    from shared.connections.install_service import install_for_account
    from shared.errors import ConnectorError, NotFoundError, RetriableError

    store, back = bootstrap.connections(), f"/connections/{connection_id}#install"
    session = bootstrap.session()
    try:
        outcome = install_for_account(
            store,
            account.id,
            connection_id,
            page.settings,
            session,
            rotate_key=rotate,
            xero_for=bootstrap.xero_for,
        )
    except (NotFoundError, RetriableError):
        raise
    except ConnectorError as refused:  # not signed in, sign-in refused (the light is red now), ...
        why = getattr(refused, "reason", refused)
        page.flash(f"Install into Dynamics did not run: {why}", error=True, place="install")
        return page.redirect(back)
    if outcome.missing_privileges and not outcome.changes:
        stopped = "Install into Dynamics stopped: privileges are missing (listed below)."
        page.flash(stopped, error=True, place="install")
    elif rotate:
        page.flash(
            "The webhook has a new key. The old key keeps working for one more hour, then stops.",
            place="install",
        )
    else:
        changes = len(outcome.changes)
        page.flash(
            f"Installed into Dynamics: {changes} change{'s' if changes != 1 else ''}."
            if changes
            else "Installed into Dynamics: everything was already in place, nothing changed.",
            place="install",
        )
    for problem in outcome.problems:
        page.flash(problem, error=True, place="install")
    return page.redirect(back)


def _activate(page: "Page", account: "Account", connection_id: str) -> func.HttpResponse:
    from shared import bootstrap
    from shared.connections.connections import NotReadyToActivate, activate
    from shared.web.connection_views import plan_label

    try:
        connection = activate(bootstrap.connections(), account.id, connection_id, lambda: page.now)
    except NotReadyToActivate as not_ready:
        page.flash(str(not_ready), error=True, place="start")
        return page.redirect(f"/connections/{connection_id}#start")
    ends = f", free trial until {connection.trial_ends_at:%d %B %Y}" if connection.trial_ends_at else ""
    page.flash(f"The connection is running on {plan_label(connection.plan)}{ends}.", place="start")
    return page.redirect(f"/connections/{connection_id}#start")


def _reference(page: "Page", account: "Account", connection_id: str) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web.connection_actions import NotActiveYet, queue_reference_refresh

    queue = bootstrap.reference_queue()
    try:
        queue_reference_refresh(bootstrap.connections(), account.id, connection_id, queue.send_message)
    except NotActiveYet as not_yet:
        page.flash(str(not_yet), error=True, place="reference")
        return page.redirect(f"/connections/{connection_id}#reference")
    page.flash(
        "Refresh queued: Xero's tax rates, account codes and branding themes reach Dynamics shortly.",
        place="reference",
    )
    return page.redirect(f"/connections/{connection_id}#reference")


def _retry(page: "Page", account: "Account", connection_id: str) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web.connection_actions import retry_failed

    queue = bootstrap.invoice_queue()
    count = retry_failed(
        bootstrap.connections(), bootstrap.activity(), account.id, connection_id, queue.send_message, page.now
    )
    page.flash(
        f"Retry queued for {count} invoice{'s' if count != 1 else ''}."
        if count
        else "No invoice failed today.",
        place="activity",
    )
    return page.redirect(f"/connections/{connection_id}#activity")


def _account(page: "Page", account: "Account") -> func.HttpResponse:
    from shared.accounts.services import services
    from shared.connections.sync_form import ValidationFailed
    from shared.web.account_page import show_account
    from shared.web.connection_actions import save_billing

    if page.method == "GET":
        return show_account(page, account)
    posted = {name: page.field(name) for name in ("name", "address", "tax_number")}
    try:
        save_billing(services(page.settings).store.update, account.id, posted)
    except ValidationFailed as failed:
        return show_account(page, account, 400, failed.field_errors, billing_form=posted)
    page.flash("Billing details saved.", place="billing")
    return page.redirect("/account#billing")
