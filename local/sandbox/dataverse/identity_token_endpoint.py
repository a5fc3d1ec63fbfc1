"""POST /{tenant}/oauth2/v2.0/token: authorization_code (with PKCE), refresh_token, client_credentials."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from .identity_client_auth import authenticate_client, check_pkce
from .identity_context import IdentityContext
from .identity_directory import RESERVED_TENANTS, Client, Tenant, User
from .identity_errors import NO_STORE, OAuthError, missing_parameter, oauth_error_response
from .identity_grants import REFRESH_TOKEN_LIFETIME, AccessToken, RefreshToken
from .identity_scopes import ScopeRequest, parse_scopes
from .identity_tokens import access_token_claims, client_info, id_token_claims, unsigned_jwt

Form = MultiDict[str, str]
_BAD_CODE = OAuthError("invalid_grant", 70000, "The provided value for the 'code' parameter is not valid.")


class TokenEndpoint:
    def __init__(self, context: IdentityContext) -> None:
        self._ctx = context
        self._grants: dict[str, Callable[[Form, Client, Tenant, str], dict[str, Any]]] = {
            "authorization_code": self._authorization_code,
            "refresh_token": self._refresh_token,
            "client_credentials": self._client_credentials,
        }

    def handle(self, request: Request, tenant: Tenant, segment: str) -> Response:
        try:
            if request.method != "POST":
                raise OAuthError("invalid_request", 900561, "The endpoint only accepts POST requests.")
            client = authenticate_client(request, self._ctx.directory)
            grant_type = request.form.get("grant_type")
            if not grant_type:
                raise missing_parameter("grant_type")
            grant = self._grants.get(grant_type)
            if grant is None:
                raise OAuthError(
                    "unsupported_grant_type",
                    70003,
                    f"The app requested an unsupported grant type '{grant_type}'.",
                )
            body = grant(request.form, client, tenant, segment)
        except OAuthError as error:
            return oauth_error_response(error, request.headers.get("client-request-id"))
        return Response(json.dumps(body), 200, mimetype="application/json", headers=NO_STORE)

    def _authorization_code(self, form: Form, client: Client, tenant: Tenant, segment: str) -> dict[str, Any]:
        if not form.get("code"):
            raise missing_parameter("code")
        code = self._ctx.grants.code(form.get("code") or "")
        if code is None or code.request.client_id != client.client_id:
            raise _BAD_CODE
        if code.redeemed:
            raise OAuthError(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a "
                "new valid code or use an existing refresh token.",
            )
        if code.expires_at <= self._ctx.clock():
            raise _expired()
        if form.get("redirect_uri") != code.request.redirect_uri:
            raise OAuthError(
                "invalid_grant",
                50011,
                f"The redirect URI '{form.get('redirect_uri')}' specified in the "
                "request does not match the redirect URI used to request the authorization code.",
            )
        check_pkce(code.request, form.get("code_verifier"))
        if not self._ctx.grants.redeem(code):
            raise _BAD_CODE
        scopes = self._scopes(form.get("scope") or code.request.scope, app_only=False)
        return self._user_tokens(client, tenant, self._user(code.user_id), scopes, code.request.nonce)

    def _refresh_token(self, form: Form, client: Client, tenant: Tenant, segment: str) -> dict[str, Any]:
        if not form.get("refresh_token"):
            raise missing_parameter("refresh_token")
        token = self._ctx.grants.refresh_token(form.get("refresh_token") or "")
        if token is None or token.client_id != client.client_id:
            raise OAuthError("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        if token.revoked:
            raise OAuthError(
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth "
                "token is needed. The user might have changed or reset their password.",
            )
        if token.expires_at <= self._ctx.clock():
            raise _expired()
        scopes = self._scopes(form.get("scope"), app_only=False)
        self._ctx.grants.touch(token)  # refresh tokens expire after inactivity, not after issue
        return self._user_tokens(client, tenant, self._user(token.user_id), scopes, nonce=None)

    def _client_credentials(self, form: Form, client: Client, tenant: Tenant, segment: str) -> dict[str, Any]:
        if segment.lower() in RESERVED_TENANTS:
            raise OAuthError(
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or "
                "implied by any provided credentials.",
            )
        if not form.get("scope"):
            raise missing_parameter("scope")
        scopes = self._scopes(form.get("scope"), app_only=True)
        lifetime = self._ctx.access_token_lifetime
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self._access_token(client, tenant, None, scopes),
        }

    def _user_tokens(
        self, client: Client, tenant: Tenant, user: User, scopes: ScopeRequest, nonce: str | None
    ) -> dict[str, Any]:
        lifetime = self._ctx.access_token_lifetime
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(scopes.resource_scopes or sorted(scopes.oidc - {"offline_access"})),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self._access_token(client, tenant, user, scopes),
            "client_info": client_info(user.object_id, user.tenant_id),
        }
        if scopes.wants_refresh_token:
            expires_at = self._ctx.clock() + REFRESH_TOKEN_LIFETIME
            refresh = RefreshToken(user.tenant_id, client.client_id, user.object_id, expires_at)
            body["refresh_token"] = self._ctx.grants.add_refresh_token(refresh)
        if "openid" in scopes.oidc:
            claims = id_token_claims(
                issuer=self._ctx.issuer(tenant),
                client_id=client.client_id,
                tenant_id=user.tenant_id,
                object_id=user.object_id,
                upn=user.upn,
                name=user.display_name,
                nonce=nonce,
                now=self._ctx.clock(),
            )
            body["id_token"] = unsigned_jwt(claims)
        return body

    def _access_token(self, client: Client, tenant: Tenant, user: User | None, scopes: ScopeRequest) -> str:
        now, lifetime = self._ctx.clock(), self._ctx.access_token_lifetime
        claims = access_token_claims(
            issuer=f"{self._ctx.base_url}/{tenant.id}/",
            audience=scopes.resource,
            tenant_id=tenant.id,
            client_id=client.client_id,
            now=now,
            lifetime=lifetime,
            object_id=user.object_id if user else None,
            upn=user.upn if user else "",
            scp="user_impersonation",
        )
        value = unsigned_jwt(claims)
        user_id = user.object_id if user else None
        record = AccessToken(scopes.resource, tenant.id, client.client_id, user_id, now + lifetime)
        self._ctx.grants.add_access_token(value, record)
        return value

    def _scopes(self, raw: str | None, *, app_only: bool) -> ScopeRequest:
        return parse_scopes(raw, set(self._ctx.resources()), app_only=app_only)

    def _user(self, object_id: str) -> User:
        user = self._ctx.directory.user_by_id(object_id)
        if user is None:  # cannot happen with the fixed demo directory; kept as a clear refusal
            raise OAuthError("invalid_grant", 50034, "The user account does not exist in the directory.")
        return user


def _expired() -> OAuthError:
    return OAuthError(
        "invalid_grant",
        70008,
        "The provided authorization code or refresh token has expired due to "
        "inactivity. Send a new interactive authorization request for this user and resource.",
    )
