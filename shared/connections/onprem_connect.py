"""'Connect to Dynamics 365 on-premises (AD FS)': the organisation URL and the connector's AD FS application
in, a signed-in (or app-only) connection out — the same connection as online from then on, with the
differences (AD FS authority, relying party, Web API version, public-address session) on its Dynamics side.

1. `begin`: check the form, reach the server (DNS, public address, TLS, its 401 naming AD FS), read AD FS's
   metadata, and ask AD FS for the sign-in page ourselves (a refused redirect URI is said here, not on
   AD FS's own error page). App-only: client credentials at once, no browser.
2. AD FS sends the browser to /oauth/dynamics/callback like Microsoft does; DynamicsConnect hands a flow
   that began here to `complete`.
3. `complete` (and app-only `begin`): read the Web API version (9.0/9.1), WhoAmI, the privileges, the
   organisation's name from the deployment's own discovery service where it answers, then save.
No Global Discovery: it is Dynamics online's (globaldisco.crm.dynamics.com) and knows no on-premises server.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from shared.config import Settings
from shared.connections.connections import get_for_account, update_for_account
from shared.connections.dynamics_connect import BUSY, moved_to, with_state
from shared.connections.pick_state import CONSENT, FlowStates
from shared.connections.results import CONNECTION_GONE, Connected, ConnectFailed
from shared.connections.sync_form import ValidationFailed
from shared.dataverse import onprem_auth
from shared.dataverse.auth import SignInError
from shared.dataverse.client import DataverseClient, ServerLacksOperation
from shared.dataverse.client_errors import ServerRefused
from shared.dataverse.onprem_server import OnPremProblem, Server, api_version, check_authorize, explain, probe
from shared.dataverse.onprem_url import NotOnPremUrl, checked_adfs_url, checked_onprem_url
from shared.dataverse.privileges import check_privileges
from shared.dataverse.public_host import customer_host_session
from shared.errors import ConnectorError, NotFoundError, ReconnectRequired, RetriableError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection, DynamicsSide

log = logging.getLogger(__name__)
FIELDS = ("org_url", "adfs_url", "client_id", "client_secret", "mode")
NEEDED = "This is needed."
RETYPED = ("org_url", "adfs_url", "client_id", "mode")  # what "Try again" brings back to the form


class OnPremConnect:
    def __init__(
        self,
        connections: ConnectionStore,
        flows: FlowStates,
        settings: Settings,
        session: requests.Session | None = None,
    ) -> None:
        """`session`: the public-only session for customer hosts (public_host.py), this process's one
        unless a test passes its own (a name of its own resolved to the sandbox)."""
        self._connections, self._flows, self._settings = connections, flows, settings
        self._session = session or customer_host_session(settings)
        self._timeout = settings.http_timeout_seconds

    def begin(
        self, account_id: str, connection_id: str, form: Mapping[str, str], redirect_uri: str
    ) -> str | Connected | ConnectFailed:
        """The AD FS sign-in URL for the browser (or, app-only, the result at once). ValidationFailed
        names the fields to fix; NotFoundError for another account's connection."""
        saved = get_for_account(self._connections, account_id, connection_id).dynamics
        reused = "" if form.get("client_secret") else _saved_secret(saved, form)
        values = _checked(form, reused)
        try:
            server = probe(self._session, values["org_url"], values["adfs_url"], self._timeout)
            if reused and server.authority != saved.adfs_authority:
                raise OnPremProblem(NEEDED, "client_secret")  # the saved secret goes to its own AD FS only
            if values["mode"] == "app":
                return self._connect(account_id, connection_id, server, values, cache="", home="")
            app = onprem_auth.build_adfs_app(
                server.authority, values["client_id"], values["client_secret"], self._session, self._timeout
            )
            flow = onprem_auth.begin(app, server.resource, redirect_uri, secrets.token_urlsafe(16))
            check_authorize(self._session, flow["auth_uri"], redirect_uri, self._timeout)
        except OnPremProblem as problem:
            raise ValidationFailed({problem.field or "": problem.message}) from None
        except ConnectorError as error:
            return _failed(error)
        onprem = {**values, "authority": server.authority, "resource": server.resource}
        state = self._flows.create(CONSENT, account_id, connection_id, {}, {"flow": flow, "onprem": onprem})
        return with_state(str(flow["auth_uri"]), state)

    def complete(
        self,
        account_id: str,
        connection_id: str,
        secret: dict[str, Any],
        params: Mapping[str, str],
        state: str,
    ) -> Connected | ConnectFailed:
        result = self._complete(account_id, connection_id, secret, params, state)
        if isinstance(result, ConnectFailed) and result.retry_possible:  # back to the on-premises form
            typed = {name: secret["onprem"].get(name, "") for name in RETYPED}  # never the secret
            query = urlencode({name: value for name, value in typed.items() if value})
            return dataclasses.replace(
                result, retry_url=f"/connections/{connection_id}/dynamics/onprem?{query}"
            )
        return result

    def _complete(
        self,
        account_id: str,
        connection_id: str,
        secret: dict[str, Any],
        params: Mapping[str, str],
        state: str,
    ) -> Connected | ConnectFailed:
        values = secret["onprem"]
        server = Server(values["org_url"], values["authority"], values["resource"])
        flow = {**secret["flow"], "state": state}
        try:
            cache = _new_cache()
            app = onprem_auth.build_adfs_app(
                server.authority,
                values["client_id"],
                values["client_secret"],
                self._session,
                self._timeout,
                cache,
            )
            home, _user = onprem_auth.complete(app, flow, dict(params), server.resource)
        except SignInError as refused:
            return ConnectFailed(refused.message)
        except ConnectorError as error:
            return _failed(error)
        return self._connect(account_id, connection_id, server, values, cache=cache.serialize(), home=home)

    def _connect(
        self,
        account_id: str,
        connection_id: str,
        server: Server,
        values: Mapping[str, str],
        cache: str,
        home: str,
    ) -> Connected | ConnectFailed:
        tokens = onprem_auth.AdfsTokens(
            lambda c: onprem_auth.build_adfs_app(
                server.authority,
                values["client_id"],
                values["client_secret"],
                self._session,
                self._timeout,
                c,
            ),
            server.resource,
            cache_blob=cache,
            home_account_id=home,
            app_only=not cache,
        )
        try:
            version = api_version(self._client(server.org_url, tokens, "9.0"))
            client = self._client(server.org_url, tokens, version)
            me = client.whoami()
            missing = check_privileges(client, for_install=True)
            name = _instance_name(self._session, tokens, server.org_url, version, self._timeout)
        except (OnPremProblem, ServerLacksOperation, ServerRefused) as problem:
            return ConnectFailed(str(problem))
        except ReconnectRequired as refused:
            return ConnectFailed(f"AD FS or Dynamics refused the connector: {refused.reason}")
        except ConnectorError as error:
            return _failed(error)

        def connect(connection: Connection) -> None:
            dynamics = moved_to(connection.dynamics, server.org_url)
            dynamics.organisation_id, dynamics.environment_name = me.organization_id, name
            dynamics.deployment, dynamics.api_version = "onprem", version
            dynamics.adfs_authority, dynamics.onprem_resource = server.authority, server.resource
            dynamics.auth_mode, dynamics.msal_cache = ("delegated", cache) if cache else ("app", "")
            dynamics.app_client_id, dynamics.app_client_secret = values["client_id"], values["client_secret"]
            dynamics.privileges_missing = [m.name for m in missing]
            connection.dynamics = dynamics

        try:
            update_for_account(self._connections, account_id, connection_id, connect)
        except NotFoundError:
            return ConnectFailed(CONNECTION_GONE, retry_possible=False)
        log.info(
            "connection %s connected to an on-premises organisation (Web API %s)", connection_id, version
        )
        return Connected(name)

    def _client(self, org_url: str, tokens: onprem_auth.AdfsTokens, version: str) -> DataverseClient:
        return DataverseClient(org_url, tokens, self._session, self._timeout, api_version=version)


def _saved_secret(saved: DynamicsSide, form: Mapping[str, str]) -> str:
    """Signing in again, the secret may be left empty: the saved one is used, but only for the same
    organisation and client identifier (and, checked once AD FS is known, the same AD FS), so a changed
    address can never make the connector hand a customer's secret to another server."""
    if saved.deployment != "onprem" or not saved.app_client_secret:
        return ""
    try:
        org_url = checked_onprem_url(str(form.get("org_url", "")))
    except NotOnPremUrl:
        return ""
    same = org_url == saved.org_url and str(form.get("client_id", "")).strip() == saved.app_client_id
    return saved.app_client_secret if same else ""


def _checked(form: Mapping[str, str], saved_secret: str = "") -> dict[str, str]:
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    values["client_secret"] = str(form.get("client_secret", "")) or saved_secret
    values["mode"] = "app" if values["mode"] == "app" else "delegated"
    errors = {name: NEEDED for name in ("org_url", "client_id", "client_secret") if not values[name].strip()}
    try:
        values["org_url"] = checked_onprem_url(values["org_url"]) if values["org_url"] else ""
    except NotOnPremUrl as refusal:
        errors["org_url"] = str(refusal)
    try:
        values["adfs_url"] = checked_adfs_url(values["adfs_url"]) if values["adfs_url"] else ""
    except NotOnPremUrl as refusal:
        errors["adfs_url"] = str(refusal)
    if errors:
        raise ValidationFailed(errors)
    return values


def _instance_name(
    session: requests.Session, tokens: onprem_auth.AdfsTokens, org_url: str, version: str, timeout: float
) -> str:
    """The organisation's friendly name from the deployment's discovery service (Learn, "Discover the URL
    for your organization using the Web API": `{server}/api/discovery/v9.x/Instances`); where it does not
    answer with this token, the organisation's address names it."""
    parts = urlsplit(org_url)
    fallback = f"{parts.netloc}{parts.path}"
    try:
        answer = session.get(
            f"{parts.scheme}://{parts.netloc}/api/discovery/v{version}/Instances",
            headers={"Authorization": f"Bearer {tokens()}", "Accept": "application/json"},
            timeout=timeout,
            allow_redirects=False,
        )
        rows = answer.json().get("value", []) if answer.status_code == 200 else []
    except (requests.RequestException, ValueError, ConnectorError, AttributeError):
        return fallback
    mine = [
        r
        for r in rows
        if isinstance(r, dict) and str(r.get("Url", "")).rstrip("/").lower() == org_url.lower()
    ]
    return str(mine[0].get("FriendlyName") or fallback) if mine else fallback


def _new_cache() -> Any:
    import msal

    return msal.SerializableTokenCache()


def _failed(error: ConnectorError) -> ConnectFailed:
    problem = explain(error, "the server")
    if problem is not None:
        return ConnectFailed(problem.message)
    if isinstance(error, RetriableError):
        return ConnectFailed(BUSY)
    return ConnectFailed(f"Dynamics refused the connection: {error}")
