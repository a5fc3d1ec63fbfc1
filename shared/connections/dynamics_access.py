"""A Dataverse client for background work on a connection (install, reference refresh, invoice push).

Delegated: tokens come silently from the connection's MSAL cache; when MSAL rotates the refresh token,
the new cache is saved at once with an ETag-conditional update (re-applied on a lost race, unless the
customer signed in again meanwhile: a newer sign-in wins). Entra ID keeps earlier refresh tokens valid,
so unlike Xero no lease is needed. When Microsoft refuses the saved sign-in, the Dynamics light turns red
("Sign in to Dynamics again") and the side is not called again until the customer signs in.
"""

from __future__ import annotations

import json
import logging

import requests

from shared.config import Settings
from shared.connections.lights import is_dynamics_connected
from shared.dataverse.client import DataverseClient
from shared.dataverse.onprem_auth import AdfsTokenRegistry, AdfsTokens, build_adfs_app
from shared.dataverse.onprem_url import NotOnPremUrl, checked_adfs_url, checked_onprem_url
from shared.dataverse.org_url import NotDataverseUrl, checked_org_url
from shared.dataverse.public_host import customer_host_session
from shared.dataverse.token_registry import TokenRegistry
from shared.dataverse.tokens import TokenProvider
from shared.errors import ReconnectRequired
from shared.store.connections import ConnectionStore
from shared.store.models import Connection, Problem

log = logging.getLogger(__name__)

_ONPREM_TOKENS = AdfsTokenRegistry()  # per worker process, like the workers' TokenRegistry for online
NOT_SIGNED_IN = "The connection is not signed in to Dynamics"
NOT_DATAVERSE = "The connection's Dynamics address is not a Dynamics environment: connect Dynamics again"


def dataverse_client_for(
    connection: Connection,
    store: ConnectionStore,
    settings: Settings,
    session: requests.Session,
    registry: TokenRegistry | None = None,
) -> DataverseClient:
    """ReconnectRequired at once when the side is not connected or already red. Workers pass their
    process's TokenRegistry so access tokens outlive one message; without one, each client starts cold."""
    dynamics = connection.dynamics
    if dynamics.error.reason:
        raise ReconnectRequired("dynamics", dynamics.error.reason)
    if not is_dynamics_connected(dynamics):
        raise ReconnectRequired("dynamics", NOT_SIGNED_IN)
    if dynamics.deployment == "onprem":
        return _onprem_client(connection, store, settings)
    try:  # rows saved before addresses were checked, or anything else that put a foreign host there
        checked_org_url(dynamics.org_url, settings.dataverse_sandbox_origin)
    except NotDataverseUrl:
        raise ReconnectRequired("dynamics", NOT_DATAVERSE) from None
    provider = _guarded(_token_provider(connection, store, settings, session, registry), store, connection.id)
    return DataverseClient(dynamics.org_url, provider, session, settings.http_timeout_seconds)


def _onprem_client(connection: Connection, store: ConnectionStore, settings: Settings) -> DataverseClient:
    """The same client on the organisation's own server: tokens from its AD FS, the Web API version it
    serves, and a session that reaches public addresses only, checked on every connection (issue 16's rule
    for customer-chosen hosts; shared/dataverse/public_host.py)."""
    dynamics = connection.dynamics
    try:
        checked_onprem_url(dynamics.org_url)
        checked_adfs_url(dynamics.adfs_authority)
    except NotOnPremUrl:
        raise ReconnectRequired("dynamics", NOT_DATAVERSE) from None
    session = customer_host_session(settings)
    home = home_account_id(dynamics.msal_cache) if dynamics.auth_mode == "delegated" else ""
    blob = dynamics.msal_cache if home else ""

    def build() -> AdfsTokens:
        return AdfsTokens(
            lambda cache: build_adfs_app(
                dynamics.adfs_authority,
                dynamics.app_client_id,
                dynamics.app_client_secret,
                session,
                settings.http_timeout_seconds,
                cache,
            ),
            dynamics.onprem_resource,
            cache_blob=blob,
            home_account_id=home,
            app_only=not home,
        )

    key = (connection.id, home, dynamics.adfs_authority, dynamics.onprem_resource, dynamics.app_client_id)
    tokens = _ONPREM_TOKENS.get((*key, dynamics.app_client_secret), blob, build)
    tokens.on_cache_changed = lambda changed: _save_cache(store, connection.id, home, changed)
    provider = _guarded(tokens, store, connection.id)
    version = dynamics.api_version or "9.0"
    return DataverseClient(
        dynamics.org_url, provider, session, settings.http_timeout_seconds, api_version=version
    )


def mark_reconnect_required(store: ConnectionStore, connection_id: str, reason: str) -> Connection:
    """The Dynamics light turns red with `reason` and "Sign in to Dynamics again". For callers that meet
    ReconnectRequired from the Web API itself (a 401 even after a fresh token)."""
    problem = Problem(reason, "Sign in to Dynamics again")
    log.warning("connection %s: Dynamics needs a new sign-in", connection_id)
    return store.update(connection_id, lambda c: setattr(c.dynamics, "error", problem))


def home_account_id(cache_blob: str) -> str:
    """The one account a connection's MSAL cache holds (each sign-in starts an empty cache).
    Reads MSAL's serialised cache schema, which is shared by every MSAL library."""
    try:
        accounts = json.loads(cache_blob or "{}").get("Account", {})
    except ValueError:
        return ""
    return next((str(a.get("home_account_id", "")) for a in accounts.values()), "")


def _token_provider(
    connection: Connection,
    store: ConnectionStore,
    settings: Settings,
    session: requests.Session,
    registry: TokenRegistry | None,
) -> TokenProvider:
    dynamics = connection.dynamics
    registry = registry or TokenRegistry(settings, session)
    if dynamics.auth_mode == "app":
        app = registry.app_only(dynamics.tenant_id, dynamics.app_client_id, dynamics.app_client_secret)
        return app.for_org(dynamics.org_url)
    home = home_account_id(dynamics.msal_cache)
    delegated = registry.delegated(
        connection.id,
        dynamics.msal_cache,
        home,
        dynamics.tenant_id or None,
        on_cache_changed=lambda blob: _save_cache(store, connection.id, home, blob),
    )
    return delegated.for_org(dynamics.org_url)


def _save_cache(store: ConnectionStore, connection_id: str, home: str, blob: str) -> None:
    def apply(connection: Connection) -> None:
        dynamics = connection.dynamics
        if dynamics.auth_mode == "delegated" and home_account_id(dynamics.msal_cache) == home:
            dynamics.msal_cache = blob

    store.update(connection_id, apply)


def _guarded(provider: TokenProvider, store: ConnectionStore, connection_id: str) -> TokenProvider:
    def provide(*, force_refresh: bool = False) -> str:
        try:
            return provider(force_refresh=force_refresh)
        except ReconnectRequired as refused:
            mark_reconnect_required(store, connection_id, refused.reason)
            raise

    return provide
