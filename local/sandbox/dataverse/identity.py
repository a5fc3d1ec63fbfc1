"""The sandbox's Microsoft Entra ID stand-in and Global Discovery, behind one `handle(request)`.

Serves, for a tenant segment `{t}` (tenant id, "contoso", "contoso.example", "organizations", "common"):
  GET  /{t}/v2.0/.well-known/openid-configuration
  GET  /{t}/oauth2/v2.0/authorize, POST the sign-in form back to it
  POST /{t}/oauth2/v2.0/token
  GET  /{t}/oauth2/v2.0/logout, GET /{t}/discovery/v2.0/keys
  GET  /api/discovery/v2.0/Instances
Everything else is left to the caller (`handle` returns None). Lifetimes run on the injected clock, so a
time-scaled sandbox expires access tokens sooner than the `expires_in` it announced: clients then meet the
401 a revoked token would give them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .discovery import handle_discovery
from .identity_context import IdentityContext
from .identity_directory import Directory, Environment, Principal, Tenant, stable_id
from .identity_grants import GrantStore
from .identity_pages import error_page, signed_out_page
from .identity_scopes import normalise_resource
from .identity_signin import SignIn
from .identity_token_endpoint import TokenEndpoint

__all__ = ["Environment", "IdentityService", "Principal"]

_TENANT_ROUTE = re.compile(
    r"^/(?P<tenant>[^/]+)/(?P<route>v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/(?:authorize|token|logout)"
    r"|discovery/v2\.0/keys)$"
)


class IdentityService:
    def __init__(
        self,
        base_url_getter: Callable[[], str],
        clock: Callable[[], float] = time.time,
        *,
        access_token_lifetime: int = 3600,
        clients: dict[str, str] | None = None,
        extra_redirect_uris: tuple[str, ...] = (),
    ) -> None:
        """`clients` maps client id to secret (default: sandbox-ms-client / sandbox-ms-secret).
        An `access_token_lifetime` of 300-303 s lets a test see MSAL refresh silently: MSAL treats a
        token with under 300 s left as expired."""
        self.directory = Directory(clients)
        self.environments: list[Environment] = self.directory.environments
        self._ctx = IdentityContext(
            self.directory,
            GrantStore(clock),
            base_url_getter,
            clock,
            access_token_lifetime,
            frozenset(extra_redirect_uris),
        )
        self._sign_in = SignIn(self._ctx)
        self._token = TokenEndpoint(self._ctx)

    @property
    def grants(self) -> GrantStore:
        """What the stand-in issued (kept across restarts by the sandbox's state file)."""
        return self._ctx.grants

    def users(self) -> list[dict[str, Any]]:
        """Demo users: object_id, upn, display_name, tenant_id, kind ("admin"/"limited"), systemuserids
        (environment url_name -> systemuserid, stable across restarts)."""
        return [user.as_dict() for user in self.directory.users]

    def application_users(self) -> list[dict[str, Any]]:
        """The registered apps as each environment's application user (for client-credentials tokens)."""
        return [
            {
                "client_id": c.client_id,
                "display_name": c.display_name,
                "systemuserids": dict(c.application_userids),
            }
            for c in self.directory.clients.values()
        ]

    def environment_url(self, env: Environment) -> str:
        return self._ctx.environment_url(env)

    def handle(self, request: Request) -> Response | None:
        match = _TENANT_ROUTE.match(request.path)
        if match is None:
            return handle_discovery(request, self._ctx, self.authenticate)
        segment, route = match.group("tenant"), match.group("route")
        tenant = self.directory.tenant_for(segment)
        if tenant is None:
            return _unknown_tenant(segment, route)
        if route.endswith("openid-configuration"):
            return _json(self._openid_configuration(segment, tenant))
        if route.endswith("authorize"):
            return self._sign_in.handle(request, tenant)
        if route.endswith("token"):
            return self._token.handle(request, tenant, segment)
        if route.endswith("logout"):
            return self._logout(request)
        return _json({"keys": []})  # tokens are unsigned: there is no key to publish

    def authenticate(self, authorization_header: str | None, resource_url: str) -> Principal | None:
        """The principal behind a Bearer token issued for `resource_url` (an environment URL, or the base
        URL for Global Discovery); None when missing, unknown, expired or meant for another audience."""
        scheme, _, value = (authorization_header or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        token = self._ctx.grants.access_token(value.strip())
        audience = normalise_resource(resource_url)
        if token is None or token.audience != audience:
            return None
        env = self._ctx.resources().get(audience)
        if token.user_id is None:
            client = self.directory.clients.get(token.client_id)
            if client is None:
                return None
            # no application user in this environment: "" (the Web API answers 403 not-a-member)
            app_user = (
                client.application_userids.get(env.url_name, "") if env else stable_id("sp", client.client_id)
            )
            return Principal(app_user, "", token.tenant_id, True, token.client_id)
        user = self.directory.user_by_id(token.user_id)
        if user is None:
            return None
        user_id = user.systemuserids[env.url_name] if env else user.object_id
        return Principal(user_id, user.upn, user.tenant_id, False, token.client_id)

    def www_authenticate(self) -> str:
        """The challenge Dataverse sends with a 401, pointing clients at this sandbox's authority."""
        authority = f"{self._ctx.base_url}/{self.directory.tenant.id}"
        return f'Bearer authorization_uri="{authority}/oauth2/v2.0/authorize"'

    def reset(self) -> None:
        self._ctx.grants.clear()

    def expire_all_access_tokens(self) -> None:
        self._ctx.grants.expire_access_tokens()

    def revoke_refresh_tokens(self, upn: str | None = None) -> None:
        """Like a password reset (one user) or an admin revoking all sessions: refreshes get invalid_grant."""
        users = [u.object_id for u in self.directory.users if upn is None or u.upn.lower() == upn.lower()]
        for object_id in users:
            self._ctx.grants.revoke_refresh_tokens(object_id)

    def _openid_configuration(self, segment: str, tenant: Tenant) -> dict[str, Any]:
        base = f"{self._ctx.base_url}/{self._ctx.endpoint_tenant(segment, tenant)}"
        reserved = segment.lower() in ("common", "organizations")
        return {
            "issuer": f"{self._ctx.base_url}/{{tenantid}}/v2.0" if reserved else self._ctx.issuer(tenant),
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["none"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "name",
                "preferred_username",
                "oid",
                "tid",
            ],
            "request_uri_parameter_supported": False,
            "tenant_region_scope": "NA",
            "cloud_instance_name": "sandbox.local",
        }

    def _logout(self, request: Request) -> Response:
        target = request.args.get("post_logout_redirect_uri")
        if target and self._ctx.redirect_allowed(target):
            return redirect(target, 302)
        return signed_out_page()


def _unknown_tenant(segment: str, route: str) -> Response:
    message = f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID."
    if route.endswith("authorize"):
        return error_page(90002, message)
    body = {"error": "invalid_tenant", "error_description": f"AADSTS90002: {message}", "error_codes": [90002]}
    return Response(json.dumps(body), 400, mimetype="application/json")


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), 200, mimetype="application/json")
