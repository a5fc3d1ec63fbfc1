"""The browser's side of "Connect to Xero" and "Connect to Dynamics": the services built for this request,
the redirect URIs, and what each outcome looks like — back to the connection with a green light, the page
to pick an organisation or environment, or a page that says what happened and offers "Try again".

The choose page carries the choices it showed in a signed field, so a form sent back without a pick can
be shown again with a message (the pick token itself is only used up by a real choice)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import azure.functions as func

from shared.config import Settings
from shared.connections.dynamics_connect import DynamicsConnect
from shared.connections.results import (
    STATE_EXPIRED,
    Choice,
    Connected,
    ConnectFailed,
    ConnectResult,
    NeedsChoice,
)
from shared.connections.xero_connect import CODE_USED, XeroConnect
from shared.crypto import KeyRing
from shared.signing import sign, unsign
from shared.store.oauth_state import OAuthStateStore
from shared.web.connection_actions import flow_connection_id
from shared.web.pages import Page

Side = Literal["xero", "dynamics"]
_OFFERED = "pick-choices"


@dataclass(frozen=True)
class SideText:
    name: str  # "Xero" / "Dynamics"
    thing: str  # what is picked
    heading: str


SIDES: dict[Side, SideText] = {
    "xero": SideText("Xero", "organisation", "Choose the Xero organisation"),
    "dynamics": SideText("Dynamics", "environment", "Choose the Dynamics 365 environment"),
}


def redirect_uri(page: Page, side: Side) -> str:
    # Exactly what infra/main.bicep outputs and the app registrations list.
    return f"{page.settings.public_base_url.rstrip('/')}/oauth/{side}/callback"


def allow_sign_in_redirects(response: func.HttpResponse, settings: Settings) -> func.HttpResponse:
    """For pages with a Connect button: CSP's form-action also governs where a form's answer redirects,
    so the Xero consent and Microsoft sign-in hosts must be allowed there, and only there."""
    origins = sorted({_origin(settings.xero_login_url), _origin(settings.ms_authority_host)} - {""})
    policy = response.headers.get("Content-Security-Policy", "")
    allowed = " ".join(["form-action 'self'", *origins])
    response.headers["Content-Security-Policy"] = policy.replace("form-action 'self'", allowed)
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("https", "http") and parts.netloc else ""


def _states(page: Page) -> OAuthStateStore:
    return OAuthStateStore.from_settings(page.settings)


def _keys(page: Page) -> KeyRing:
    return KeyRing.from_setting(page.settings.token_encryption_keys)


def xero_connect(page: Page) -> XeroConnect:
    from shared.xero.oauth import XeroOAuth

    oauth = XeroOAuth(page.parts.session, page.settings)
    return XeroConnect(page.parts.connections, _states(page), oauth, _keys(page))


def dynamics_connect(page: Page) -> DynamicsConnect:
    return DynamicsConnect(
        page.parts.connections, _states(page), _keys(page), page.settings, page.parts.session
    )


def connection_of_state(page: Page, state: str, account_id: str) -> str:
    """Read before the flow uses the state up: where to lead the browser back to."""
    from shared.store.tables import OAUTH_STATE, table_client

    return flow_connection_id(table_client(page.settings, OAUTH_STATE), state, account_id)


def outcome_page(page: Page, side: Side, connection_id: str, result: ConnectResult) -> func.HttpResponse:
    if isinstance(result, ConnectFailed) and result.message in (STATE_EXPIRED, CODE_USED):
        connected = _connected_name(page, side, connection_id)
        if connected:  # the browser's Back to the consent page and Allow again: it is connected already
            said = f"{SIDES[side].name} is connected: {connected}. That sign-in was already used."
            page.flash(said, place=side)
            return page.redirect(f"/connections/{connection_id}#{side}")
    if isinstance(result, Connected):
        page.flash(f"Connected to {SIDES[side].name}: {result.name}.", place=side)
        return page.redirect(f"/connections/{connection_id}#{side}" if connection_id else "/connections")
    if isinstance(result, NeedsChoice):
        offered = sign(
            {"c": connection_id, "o": [[c.id, c.name, c.detail] for c in result.choices]},
            page.settings.session_secret,
            _OFFERED,
        )
        return choose_page(page, side, connection_id, result.pick_token, result.choices, offered)
    return failed_page(page, side, connection_id, result)


def _connected_name(page: Page, side: Side, connection_id: str) -> str:
    """The organisation or environment `connection_id` is connected to on `side` ("" when it is not, or
    it is not this account's connection)."""
    from shared.connections.connections import get_for_account
    from shared.connections.lights import is_dynamics_connected, is_xero_connected
    from shared.errors import NotFoundError

    if not connection_id or page.account is None:
        return ""
    try:
        connection = get_for_account(page.parts.connections, page.account.id, connection_id)
    except NotFoundError:
        return ""
    if side == "xero":
        green = is_xero_connected(connection.xero) and not connection.xero.error.reason
        return connection.xero.organisation_name or "Xero" if green else ""
    green = is_dynamics_connected(connection.dynamics) and not connection.dynamics.error.reason
    return connection.dynamics.environment_name or "Dynamics" if green else ""


def choose_page(
    page: Page,
    side: Side,
    connection_id: str,
    pick_token: str,
    choices: list[Choice],
    offered: str,
    error: str = "",
) -> func.HttpResponse:
    text = SIDES[side]
    return page.render(
        "choose_one.html",
        400 if error else 200,
        title=text.heading,
        side=side,
        text=text,
        connection_id=connection_id,
        pick_token=pick_token,
        choices=choices,
        offered=offered,
        errors={"choice": error} if error else {},
    )


def reopen_choices(page: Page, offered: str) -> tuple[str, list[Choice]] | None:
    """(connection id, choices) from the choose page's signed field; None when it was tampered with."""
    payload = unsign(offered, page.settings.session_secret, _OFFERED)
    if payload is None:
        return None
    try:
        return str(payload["c"]), [Choice(str(i), str(n), str(d)) for i, n, d in payload["o"]]
    except (KeyError, TypeError, ValueError):
        return None


def failed_page(page: Page, side: Side, connection_id: str, failed: ConnectFailed) -> func.HttpResponse:
    response = page.render(
        "connect_failed.html",
        400,
        title=f"{SIDES[side].name} is not connected",
        side=side,
        text=SIDES[side],
        message=failed.message,
        retry=failed.retry_possible and bool(connection_id),
        retry_url=failed.retry_url,
        connection_id=connection_id,
    )
    return allow_sign_in_redirects(response, page.settings)


def delete_connection(page: Page, account_id: str, connection_id: str) -> list[str]:
    """The connection deleted with what it set up on both sides (shared/connections/deletion.py)."""
    from shared.connections.deletion import delete_connection as delete
    from shared.connections.dynamics_access import dataverse_client_for

    store = page.parts.connections
    left = delete(
        store,
        account_id,
        connection_id,
        xero_connect(page).disconnect,
        lambda connection: dataverse_client_for(connection, store, page.settings, page.parts.session),
    )
    page.parts.activity.forget(connection_id)  # only after delete() found it this account's
    return left
