"""Connecting a connection's two sides: "Connect to Xero" / "Connect to Dynamics" (the consent or
sign-in page), the callbacks Xero and Microsoft send the browser back to, the page to pick one of
several, disconnecting Xero, and the app-only form for an application user in Dynamics. Page and the
signed-in account in, response out; the collaborators come as page.parts. Their triggers:
functions/oauth_callbacks.py."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from shared.store.models import Account
from shared.web.connect_flows import Side
from shared.web.pages import Page


def _flows(page: Page, side: Side) -> Any:
    from shared.web.connect_flows import dynamics_connect, xero_connect

    return xero_connect(page) if side == "xero" else dynamics_connect(page)


def begin(page: Page, account: Account, side: Side, connection_id: str) -> func.HttpResponse:
    from shared.connections.results import ConnectFailed
    from shared.errors import ConnectorError, NotFoundError, RetriableError
    from shared.web.connect_flows import failed_page, redirect_uri

    try:
        url = _flows(page, side).begin(account.id, connection_id, redirect_uri(page, side))
    except (NotFoundError, RetriableError):
        raise
    except ConnectorError as refused:  # e.g. the app registration is not configured
        return failed_page(page, side, connection_id, ConnectFailed(str(refused), retry_possible=False))
    return page.redirect(url)


def callback(page: Page, account: Account, side: Side) -> func.HttpResponse:
    from shared.web.connect_flows import connection_of_state, outcome_page

    connection_id = connection_of_state(page, page.query.get("state", ""), account.id)
    result = _flows(page, side).complete(account.id, page.query)
    return outcome_page(page, side, connection_id, result)


def choose(page: Page, account: Account, side: Side) -> func.HttpResponse:
    from shared.connections.results import STATE_EXPIRED, ConnectFailed
    from shared.web.connect_flows import SIDES, choose_page, connection_of_state, outcome_page, reopen_choices

    pick_token, choice, offered = page.field("pick_token"), page.field("choice"), page.field("offered")
    if not choice:
        reopened = reopen_choices(page, offered)
        if reopened is None:
            return outcome_page(page, side, "", ConnectFailed(STATE_EXPIRED))
        connection_id, choices = reopened
        error = f"Choose an {SIDES[side].thing}."
        return choose_page(page, side, connection_id, pick_token, choices, offered, error)
    connection_id = connection_of_state(page, pick_token, account.id)
    return outcome_page(page, side, connection_id, _flows(page, side).choose(account.id, pick_token, choice))


def disconnect_xero(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.connections.connections import get_for_account
    from shared.web.connect_flows import xero_connect

    if page.method == "GET":
        connection = get_for_account(page.parts.connections, account.id, connection_id)
        title = "Disconnect from Xero?"
        return page.render("disconnect_xero.html", title=title, connection=connection)
    xero_connect(page).disconnect(account.id, connection_id)
    page.flash(
        "Disconnected from Xero. Invoices stop syncing until you connect an organisation again.", place="xero"
    )
    return page.redirect(f"/connections/{connection_id}#xero")


def app_only(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.connections.connections import get_for_account
    from shared.connections.dynamics_app_only import use_app_credentials
    from shared.connections.results import Connected
    from shared.connections.sync_form import ValidationFailed
    from shared.dataverse.privileges import APP_USER_ROLE, INSTALL, RUNTIME
    from shared.web.connection_views import privilege_texts

    connection = get_for_account(page.parts.connections, account.id, connection_id)
    names = ("org_url", "tenant_id", "client_id", "client_secret")
    form = {name: page.field(name) for name in names}
    context: dict[str, Any] = {
        "title": "Use an application user in Dynamics",
        "connection": connection,
        "form": {**form, "client_secret": ""},
        "help_url": "",
        "security_role": APP_USER_ROLE,
        "privileges": privilege_texts([needed.name for needed in (*INSTALL, *RUNTIME)]),
    }
    if page.method == "GET":
        return page.render("dynamics_app.html", errors={}, **context)
    try:
        result = use_app_credentials(
            page.parts.connections, page.settings, page.parts.session, account.id, connection_id, form
        )
    except ValidationFailed as failed:
        return page.render("dynamics_app.html", 400, errors=failed.field_errors, **context)
    if not isinstance(result, Connected):
        return page.render(
            "dynamics_app.html", 400, errors={"": result.message}, **{**context, "help_url": result.help_url}
        )
    page.flash(f"Connected to Dynamics: {result.name}.", place="dynamics")
    return page.redirect(f"/connections/{connection_id}#dynamics")
