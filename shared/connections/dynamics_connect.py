"""'Connect to Dynamics': Microsoft sign-in (MSAL auth code + PKCE) and choosing among several
environments (Global Discovery). App-only credentials are in dynamics_app_only.py.

The MSAL flow (PKCE verifier, nonce) waits in the single-use OAuth state, encrypted. The state value is
only known once the row exists, so the flow is built first and the authorize URL then carries the row's
state; `complete` hands MSAL that same state, which MSAL compares with the answer's.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import asdict
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from shared.config import Settings
from shared.connections.connections import get_for_account, update_for_account
from shared.connections.pick_state import CONSENT, PICK, FlowStates
from shared.connections.results import (
    CONNECTION_GONE,
    STATE_EXPIRED,
    Choice,
    Connected,
    ConnectFailed,
    ConnectResult,
    NeedsChoice,
)
from shared.crypto import KeyRing
from shared.dataverse.auth import SignInError, begin_sign_in, complete_sign_in
from shared.dataverse.discovery import Environment, list_environments
from shared.errors import ConnectorError, NotFoundError, ReconnectRequired, RetriableError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection, DynamicsSide, Problem
from shared.store.oauth_state import OAuthStateStore

log = logging.getLogger(__name__)

DENIED = "You chose not to connect to Dynamics — try again when you are ready."
CODE_USED = "This Microsoft sign-in expired or was already used — start again."
BUSY = "Microsoft or Dynamics is not answering right now — try again in a minute."
NO_ENVIRONMENT = (
    "Your Microsoft account has no Dynamics 365 environment we can use — sign in with another account."
)
NOT_OFFERED = "That environment was not among those offered — start again."


class DynamicsConnect:
    def __init__(
        self,
        connections: ConnectionStore,
        states: OAuthStateStore,
        keys: KeyRing,
        settings: Settings,
        session: requests.Session,
    ) -> None:
        self._connections, self._settings, self._session = connections, settings, session
        self._flows = FlowStates(states, keys, "dynamics")

    def begin(self, account_id: str, connection_id: str, redirect_uri: str) -> str:
        """The Microsoft sign-in URL for the browser; NotFoundError for another account's connection."""
        get_for_account(self._connections, account_id, connection_id)
        flow = begin_sign_in(self._settings, self._session, redirect_uri, state=secrets.token_urlsafe(16))
        state = self._flows.create(CONSENT, account_id, connection_id, {}, {"flow": flow})
        return with_state(str(flow["auth_uri"]), state)

    def complete(self, account_id: str, params: Mapping[str, str]) -> ConnectResult:
        """Handle Microsoft's redirect back (its query parameters)."""
        opened = self._flows.consume(CONSENT, params.get("state", ""), account_id)  # burnt in every case
        if params.get("error"):
            if params["error"] == "access_denied":
                return ConnectFailed(DENIED)
            return ConnectFailed(
                f"Microsoft did not complete the sign-in ({_code(params['error'])}) — try again."
            )
        if opened is None or not params.get("code"):
            return ConnectFailed(STATE_EXPIRED)
        record, secret = opened
        if not self._owns(account_id, record.connection_id):
            return ConnectFailed(CONNECTION_GONE, retry_possible=False)
        if "onprem" in secret:  # AD FS sent the browser back: an on-premises sign-in (onprem_connect.py)
            from shared.connections.onprem_connect import OnPremConnect

            onprem = OnPremConnect(self._connections, self._flows, self._settings)
            return onprem.complete(account_id, record.connection_id, secret, params, record.state)
        flow = {**secret["flow"], "state": record.state}
        try:
            signed_in = complete_sign_in(self._settings, self._session, flow, dict(params))
            sign_in = {
                "cache": signed_in.cache_blob,
                "home": signed_in.home_account_id,
                "tenant": signed_in.tenant_id,
            }
            environments = list_environments(
                self._settings, self._session, signed_in.cache_blob, signed_in.home_account_id
            )
        except SignInError as error:
            return ConnectFailed(CODE_USED if error.code == "invalid_grant" else error.message)
        except ConnectorError as error:
            return _failed(error)
        if not environments:
            return ConnectFailed(NO_ENVIRONMENT)
        if len(environments) == 1:
            return self._connect(account_id, record.connection_id, sign_in, environments[0])
        pick_secret = {"sign_in": sign_in, "environments": [asdict(e) for e in environments]}
        pick = self._flows.create(PICK, account_id, record.connection_id, {}, pick_secret)
        return NeedsChoice(pick, [Choice(e.id, e.friendly_name, e.url) for e in environments])

    def choose(self, account_id: str, pick_token: str, environment_id: str) -> Connected | ConnectFailed:
        """Connect the environment picked on the choice page."""
        opened = self._flows.consume(PICK, pick_token, account_id)
        if opened is None:
            return ConnectFailed(STATE_EXPIRED)
        record, secret = opened
        environments = [Environment(**e) for e in secret["environments"]]
        chosen = next((e for e in environments if e.id == environment_id), None)
        if chosen is None:
            return ConnectFailed(NOT_OFFERED)
        return self._connect(account_id, record.connection_id, secret["sign_in"], chosen)

    def _connect(
        self, account_id: str, connection_id: str, sign_in: dict[str, str], environment: Environment
    ) -> Connected | ConnectFailed:
        def connect(connection: Connection) -> None:
            dynamics = moved_to(connection.dynamics, environment.url)
            dynamics.organisation_id, dynamics.environment_name = environment.id, environment.friendly_name
            dynamics.tenant_id = sign_in["tenant"] or environment.tenant_id
            dynamics.auth_mode, dynamics.msal_cache = "delegated", sign_in["cache"]
            dynamics.app_client_id, dynamics.app_client_secret = "", ""
            connection.dynamics = dynamics

        try:
            update_for_account(self._connections, account_id, connection_id, connect)
        except NotFoundError:
            return ConnectFailed(CONNECTION_GONE, retry_possible=False)
        log.info("connection %s connected to a Dynamics environment", connection_id)
        return Connected(environment.friendly_name)

    def _owns(self, account_id: str, connection_id: str) -> bool:
        try:
            get_for_account(self._connections, account_id, connection_id)
        except NotFoundError:
            return False
        return True


def moved_to(current: DynamicsSide, org_url: str) -> DynamicsSide:
    """The side after a new sign-in: install facts are kept only for the same environment. Privileges
    belonged to the previous identity: Install into Dynamics checks them again."""
    same = current.org_url.rstrip("/").lower() == org_url.rstrip("/").lower()
    return DynamicsSide(
        org_url=org_url,
        webhook_registered=current.webhook_registered if same else False,
        webhook_key_hash=current.webhook_key_hash if same else "",
        error=Problem(),
    )


def with_state(auth_uri: str, state: str) -> str:
    parts = urlsplit(auth_uri)
    query = [(k, state if k == "state" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _code(error: str) -> str:
    """An OAuth error code as shown to the customer: the query is attacker-controlled."""
    return "".join(c for c in error[:40] if c.isalnum() or c == "_") or "unknown"


def _failed(error: ConnectorError) -> ConnectFailed:
    if isinstance(error, RetriableError):
        return ConnectFailed(BUSY)
    if isinstance(error, ReconnectRequired):
        return ConnectFailed(CODE_USED)
    return ConnectFailed(f"Dynamics refused the connection: {error}", retry_possible=False)
