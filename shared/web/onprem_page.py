"""The "Dynamics 365 on-premises (AD FS)" page of a connection: the values the customer's administrator
enters in AD FS, the form (organisation URL, AD FS URL when the server does not name it, the AD FS
application's client identifier and secret, person or application), and what happened in words.

After the checks pass, the page links to AD FS's sign-in instead of redirecting there: the portal's
Content-Security-Policy lets a form's answer redirect only to hosts known in advance (form-action), and a
customer's AD FS is not one. AD FS comes back to /oauth/dynamics/callback like Microsoft does."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from shared.store.models import Account, Connection
from shared.web.pages import Page

TEMPLATE = "dynamics_onprem.html"
MODES = [
    ("delegated", "As a Dynamics user who signs in through AD FS"),
    ("app", "As the application itself (client credentials, no person)"),
]


def onprem(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.connections.connections import get_for_account
    from shared.connections.onprem_connect import FIELDS, RETYPED, OnPremConnect
    from shared.connections.pick_state import FlowStates
    from shared.connections.results import Connected
    from shared.connections.sync_form import ValidationFailed
    from shared.web.connect_flows import _keys, _states, redirect_uri

    connection = get_for_account(page.parts.connections, account.id, connection_id)
    callback = redirect_uri(page, "dynamics")
    form = {name: page.field(name) for name in FIELDS}
    if page.method == "GET":  # signing in again: the values the connection was connected with, or after
        form = saved_form(connection)  # a failed sign-in ("Try again") the values typed then
        if not form["org_url"]:
            form.update({name: page.query.get(name, "")[:500] for name in RETYPED})
    context: dict[str, Any] = {
        "title": "Connect Dynamics 365 on-premises (AD FS)",
        "connection": connection,
        "form": {**form, "client_secret": "", "mode": form["mode"] or "delegated"},
        "modes": MODES,
        "redirect_uri": callback,
        "sign_in_url": "",
        "secret_saved": bool(saved_form(connection)["org_url"]),
    }
    if page.method == "GET":
        return page.render(TEMPLATE, errors={}, **context)
    service = OnPremConnect(
        page.parts.connections, FlowStates(_states(page), _keys(page), "dynamics"), page.settings
    )
    try:
        result = service.begin(account.id, connection_id, form, callback)
    except ValidationFailed as failed:
        return page.render(TEMPLATE, 400, errors=failed.field_errors, **context)
    if isinstance(result, str):
        return page.render(TEMPLATE, errors={}, **{**context, "sign_in_url": result})
    if not isinstance(result, Connected):
        return page.render(TEMPLATE, 400, errors={"": result.message}, **context)
    page.flash(f"Connected to Dynamics: {result.name}.", place="dynamics")
    return page.redirect(f"/connections/{connection_id}#dynamics")


def saved_form(connection: Connection) -> dict[str, str]:
    """The on-premises values a connection was connected with, for "Sign in again" (never the secret);
    empty for a connection that is not on-premises."""
    dynamics = connection.dynamics
    if dynamics.deployment != "onprem" or not dynamics.org_url:
        return {"org_url": "", "adfs_url": "", "client_id": "", "client_secret": "", "mode": ""}
    return {
        "org_url": dynamics.org_url,
        "adfs_url": dynamics.adfs_authority,
        "client_id": dynamics.app_client_id,
        "client_secret": "",
        "mode": "app" if dynamics.auth_mode == "app" else "delegated",
    }
