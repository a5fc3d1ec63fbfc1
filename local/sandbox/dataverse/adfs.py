"""An AD FS (2019 or later) stand-in for the sandbox's on-premises organisation, behind `handle(request)`.

  GET  /adfs/.well-known/openid-configuration      the metadata MSAL reads for the authority .../adfs
  GET  /adfs/oauth2/authorize, POST the sign-in form back to it (forms sign-in: user name and password)
  POST /adfs/oauth2/token    authorization_code (with PKCE), refresh_token, client_credentials
  GET  /adfs/discovery/keys

Endpoints and metadata: Learn, "AD FS OpenID Connect/OAuth concepts" (discovery document at
/adfs/.well-known/openid-configuration; /adfs/oauth2/authorize and /adfs/oauth2/token) and "AD FS OpenID
Connect/OAuth flows and Application Scenarios". MSAL's requirements of the answer (msal/token_cache.py): an
id_token with `nonce` and `sub` (its home account id on AD FS; there is no client_info) and `upn`.
Forms sign-in: Learn, "Post-installation and configuration guidelines for Microsoft Dynamics 365" (enable
Form Based Authentication for OAuth clients). Error texts with MSIS codes are the ones AD FS writes to its
admin log, widely quoted but not on Learn: unverified; their status codes too.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from .adfs_grants import CODE_LIFETIME, AdfsClient, AdfsGrants, AdfsUser, Code
from .identity_scopes import normalise_resource
from .identity_tokens import unsigned_jwt

_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


class AdfsError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class AdfsService:
    def __init__(
        self, base_url: Callable[[], str], resources: Callable[[], set[str]], grants: AdfsGrants
    ) -> None:
        """`resources`: the normalised resource identifiers of the on-premises organisations (relying
        parties) tokens may be issued for."""
        self._base, self._resources, self.grants = base_url, resources, grants

    @property
    def authority(self) -> str:
        return f"{self._base().rstrip('/')}/adfs"

    def handle(self, request: Request) -> Response | None:
        route = request.path[len("/adfs") :].rstrip("/")  # its metadata names the endpoints with a "/"
        if route == "/.well-known/openid-configuration":
            return _json(self._metadata())
        if route == "/oauth2/authorize":
            return self._authorize(request)
        if route == "/oauth2/token":
            return self._token(request)
        if route == "/discovery/keys":
            return _json({"keys": []})  # tokens are opaque here: nothing to verify with
        return None

    def authenticate(self, header: str | None, resource: str) -> tuple[AdfsUser | None, str] | None:
        """(user or None for an app, client id) behind a Bearer token issued for `resource`."""
        scheme, _, value = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        issued = self.grants.access_token(value.strip())
        if issued is None or issued.resource != normalise_resource(resource):
            return None
        return issued.user, issued.client_id

    def _metadata(self) -> dict[str, Any]:
        base = self.authority
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth2/authorize/",
            "token_endpoint": f"{base}/oauth2/token/",
            "jwks_uri": f"{base}/discovery/keys",
            "end_session_endpoint": f"{base}/oauth2/logout",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["pairwise"],
            "scopes_supported": ["openid", "profile", "email", "allatclaims", "user_impersonation"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "microsoft_multi_refresh_token": True,
        }

    # -- authorize ------------------------------------------------------------------------------------
    def _authorize(self, request: Request) -> Response:
        values = request.form if request.method == "POST" else request.args
        client = self.grants.clients.get(values.get("client_id", ""))
        redirect_uri = values.get("redirect_uri", "")
        if client is None:
            return _error_page(
                "MSIS9223: Received invalid OAuth authorization request. The received 'client_id' is invalid "
                "as no registered client was found with that client identifier."
            )
        if redirect_uri not in client.redirect_uris:  # never redirect to an unregistered address
            return _error_page(
                "MSIS9224: Received invalid OAuth authorization request. The received 'redirect_uri' "
                "parameter is not a valid registered redirect URI for the client identifier: "
                f"'{client.client_id}'."
            )
        try:
            resource = self._resource(values.get("resource"), values.get("scope", ""))
        except AdfsError as refused:
            return _redirect_error(redirect_uri, values.get("state"), refused)
        if values.get("response_type") != "code":
            unsupported = AdfsError(
                "unsupported_response_type", "MSIS9226: only the code flow is served here."
            )
            return _redirect_error(redirect_uri, values.get("state"), unsupported)
        if request.method == "GET":
            return _sign_in_page(request.url, dict(values.items()), "")
        user = self.grants.user(values.get("UserName", ""))
        if user is None or user.password != values.get("Password", ""):
            return _sign_in_page(request.base_url, dict(values.items()), "Incorrect user ID or password.")
        code = self.grants.new_code(
            Code(
                user,
                client.client_id,
                redirect_uri,
                resource,
                values.get("scope", ""),
                values.get("nonce"),
                values.get("code_challenge"),
                values.get("code_challenge_method"),
                self.grants.clock() + CODE_LIFETIME,
            )
        )
        answer = {"code": code, **({"state": values["state"]} if values.get("state") else {})}
        return Response(status=302, headers={"Location": _join(redirect_uri, answer), **_HEADERS})

    # -- token ----------------------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        try:
            if request.method != "POST":
                raise AdfsError("invalid_request", "MSIS9601: the token endpoint accepts POST only.")
            client = self._client(request)
            grant = request.form.get("grant_type", "")
            if grant == "authorization_code":
                body = self._code_grant(request, client)
            elif grant == "refresh_token":
                body = self._refresh_grant(request, client)
            elif grant == "client_credentials":
                resource = self._resource(request.form.get("resource"), request.form.get("scope", ""))
                body = {
                    **self.grants.issue(None, client.client_id, resource, refresh=False),
                    "resource": resource,
                }
            else:
                raise AdfsError("unsupported_grant_type", f"MSIS9611: grant type '{grant}' is not supported.")
        except AdfsError as refused:
            body = {"error": refused.error, "error_description": refused.description}
            return Response(json.dumps(body), refused.status, mimetype="application/json", headers=_HEADERS)
        return Response(
            json.dumps({"token_type": "bearer", "expires_in": 3600, **body}),
            200,
            mimetype="application/json",
            headers=_HEADERS,
        )

    def _code_grant(self, request: Request, client: AdfsClient) -> dict[str, Any]:
        code = self.grants.take_code(request.form.get("code", ""))
        if code is None or code.client_id != client.client_id:
            raise AdfsError(
                "invalid_grant", "MSIS9612: The authorization code received is invalid or expired."
            )
        if request.form.get("redirect_uri") != code.redirect_uri:
            raise AdfsError(
                "invalid_grant", "MSIS9613: The redirect_uri does not match the authorization request."
            )
        _check_pkce(code, request.form.get("code_verifier"))
        tokens = self.grants.issue(code.user, client.client_id, code.resource, refresh=True)
        return {**tokens, "resource": code.resource, "scope": code.scope, "id_token": self._id_token(code)}

    def _refresh_grant(self, request: Request, client: AdfsClient) -> dict[str, Any]:
        issued = self.grants.refresh_token(request.form.get("refresh_token", ""))
        if issued is None or issued.client_id != client.client_id:
            raise AdfsError("invalid_grant", "MSIS9615: The refresh token received is invalid or expired.")
        asked = request.form.get("resource") or request.form.get("scope")
        resource = (
            self._resource(request.form.get("resource"), request.form.get("scope", ""))
            if asked
            else issued.resource
        )
        tokens = self.grants.issue(issued.user, client.client_id, resource, refresh=True)
        return {**tokens, "resource": resource}

    def _id_token(self, code: Code) -> str:
        now = int(self.grants.clock())
        claims = {
            "aud": code.client_id,
            "iss": self.authority,
            "iat": now,
            "exp": now + 3600,
            "sub": code.user.object_id,
            "upn": code.user.upn,
            "unique_name": code.user.display_name,
            "apptype": "Confidential",
            "appid": code.client_id,
            "ver": "1.0",
        }
        if code.nonce is not None:
            claims["nonce"] = code.nonce
        return unsigned_jwt(claims)

    def _client(self, request: Request) -> AdfsClient:
        client_id, secret = request.form.get("client_id", ""), request.form.get("client_secret", "")
        if request.authorization is not None and request.authorization.type == "basic":
            client_id, secret = request.authorization.username or "", request.authorization.password or ""
        client = self.grants.clients.get(client_id)
        if client is None or not secret or secret != client.secret:
            raise AdfsError("invalid_client", "MSIS9622: Client authentication failed.", 401)
        return client

    def _resource(self, resource: str | None, scope: str) -> str:
        """[MS-OAPX] `resource` when given; else the scope's resource part (`{resource}/user_impersonation`,
        how MSAL asks AD FS 2019: unverified), which must then name the same relying party."""
        from_scope = {normalise_resource(w.rsplit("/", 1)[0]) for w in scope.split() if "://" in w}
        chosen = (
            normalise_resource(resource) if resource else (from_scope.pop() if len(from_scope) == 1 else "")
        )
        if not chosen or (resource and from_scope and from_scope != {chosen}):
            raise AdfsError("invalid_resource", "MSIS9602: The received resource is invalid or missing.")
        if chosen not in self._resources():
            raise AdfsError(
                "invalid_resource",
                f"MSIS9604: The resource '{chosen}' is not a relying party trust of this AD FS.",
            )
        return chosen


def _check_pkce(code: Code, verifier: str | None) -> None:
    if code.challenge is None:
        return
    if not verifier:
        raise AdfsError("invalid_grant", "MSIS9616: The code_verifier is missing.")
    if code.method == "S256":
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    else:
        digest = verifier
    if digest != code.challenge:
        raise AdfsError("invalid_grant", "MSIS9617: The code_verifier does not match the code_challenge.")


def _sign_in_page(action: str, values: dict[str, str], error: str) -> Response:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in values.items()
        if k not in ("UserName", "Password")
    )
    alert = f'<p role="alert">{escape(error)}</p>' if error else ""
    body = f"""<h1>Fabrikam AD FS</h1><p>Sign in with your organizational account</p>{alert}
<form method="post" action="{escape(action.split("?", 1)[0])}">{hidden}
<p><label for="UserName">User account</label>
<input id="UserName" name="UserName" autocomplete="username"></p>
<p><label for="Password">Password</label> <input id="Password" name="Password" type="password"></p>
<button type="submit">Sign in</button></form>"""
    return _html("Sign In", body, 401 if error else 200)


def _error_page(message: str) -> Response:
    return _html("AD FS error", f'<h1>An error occurred</h1><p role="alert">{escape(message)}</p>', 400)


def _redirect_error(redirect_uri: str, state: str | None, refused: AdfsError) -> Response:
    answer = {"error": refused.error, "error_description": refused.description}
    if state:
        answer["state"] = state
    return Response(status=302, headers={"Location": _join(redirect_uri, answer), **_HEADERS})


def _join(uri: str, values: dict[str, str]) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(values)}"


def _html(title: str, body: str, status: int) -> Response:
    head = f"<!doctype html><html lang=en><head><title>{escape(title)}</title></head>"
    page = f"{head}<body><main>{body}</main></body></html>"
    return Response(page, status, mimetype="text/html", headers=_HEADERS)


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), 200, mimetype="application/json")
