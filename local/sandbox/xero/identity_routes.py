"""Identity endpoints: the consent page, the token endpoint, revocation and /connections."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from local.sandbox.xero.consent_page import consent_html, error_html
from local.sandbox.xero.identity_state import App, Grant, OAuthError
from local.sandbox.xero.state import SandboxState
from local.sandbox.xero.wire import json_response, oauth_error, problem

_AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
)


def authorize(state: SandboxState, request: Request) -> Response:
    source = request.form if request.method == "POST" else request.args
    params = {k: source[k] for k in _AUTHORIZE_PARAMS if k in source}
    app = state.identity.apps.get(params.get("client_id", ""))
    redirect_uri = params.get("redirect_uri", "")
    if app is None:
        return _error_page("Unknown client_id: this app is not registered.")
    if not app.redirect_allowed(redirect_uri):
        return _error_page("Invalid redirect_uri: it does not match the app's registered redirect URIs.")
    back: dict[str, str] = {"state": params["state"]} if "state" in params else {}
    if params.get("response_type") != "code":
        return _back(redirect_uri, {"error": "unsupported_response_type"} | back)
    scopes = params.get("scope", "").split()
    if not scopes:
        return _back(redirect_uri, {"error": "invalid_scope"} | back)
    orgs = sorted(state.orgs.values(), key=lambda o: o.name)
    if request.method == "GET":
        return _page(consent_html(app.name, scopes, params, orgs))
    if request.form.get("decision") != "allow":
        return _back(redirect_uri, {"error": "access_denied"} | back)
    chosen = [t for t in request.form.getlist("tenant") if t in state.orgs]
    if not chosen:
        return _page(consent_html(app.name, scopes, params, orgs, "Choose at least one organisation."), 400)
    challenge = params.get("code_challenge", "")
    if challenge and params.get("code_challenge_method") != "S256":  # "plain" is refused (stricter)
        return _back(redirect_uri, {"error": "invalid_request"} | back)
    code = state.identity.consent(app, redirect_uri, scopes, chosen, challenge)
    return _back(redirect_uri, {"code": code, "scope": " ".join(scopes)} | back)


def token(state: SandboxState, request: Request) -> Response:
    try:
        app = _client(state, request)
        grant_type = request.form.get("grant_type", "")
        if grant_type == "authorization_code":
            answer = state.identity.exchange_code(
                app,
                request.form.get("code", ""),
                request.form.get("redirect_uri", ""),
                request.form.get("code_verifier", ""),
            )
        elif grant_type == "refresh_token":
            answer = state.identity.refresh(app, request.form.get("refresh_token", ""))
        else:
            return oauth_error("unsupported_grant_type")
    except OAuthError as failure:
        return oauth_error(failure.error, failure.status)
    return json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def revocation(state: SandboxState, request: Request) -> Response:
    try:
        app = _client(state, request)
    except OAuthError as failure:
        return oauth_error(failure.error, failure.status)
    state.identity.revoke(app, request.form.get("token", ""))
    return Response(status=200)


def connections(state: SandboxState, request: Request, connection_id: str | None) -> Response:
    grant, failure = bearer_grant(state, request)
    if grant is None:
        return failure
    if request.method == "DELETE" and connection_id:
        if not state.identity.disconnect(grant, connection_id):
            return problem(404, "NotFound", "The resource you're looking for cannot be found")
        return Response(status=204)
    found = state.identity.connections_of(grant)
    if request.args.get("authEventId"):
        found = [c for c in found if c.auth_event_id == request.args["authEventId"]]
    return json_response([_connection(state, c) for c in found])


def bearer_grant(state: SandboxState, request: Request) -> tuple[Grant | None, Response]:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None, problem(
            401, "Unauthorized", "AuthenticationUnsuccessful", {"WWW-Authenticate": "Bearer"}
        )
    try:
        return state.identity.authenticate(header[7:].strip()), Response()
    except OAuthError as failure:
        if failure.error == "expired":
            stamp = datetime.now(UTC).strftime("%m/%d/%Y %H:%M:%S")
            return None, problem(
                401,
                "Unauthorized",
                f"TokenExpired: token expired at {stamp}",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return None, problem(
            401,
            "Unauthorized",
            "AuthenticationUnsuccessful",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


def _connection(state: SandboxState, conn: Any) -> dict[str, Any]:
    org = state.orgs.get(conn.tenant_id)
    return {
        "id": conn.id,
        "authEventId": conn.auth_event_id,
        "tenantId": conn.tenant_id,
        "tenantType": "ORGANISATION",
        "tenantName": org.name if org else "",
        "createdDateUtc": _iso(conn.created),
        "updatedDateUtc": _iso(conn.updated),
    }


def _iso(seconds: float) -> str:
    # Xero itself sends no offset ("2019-12-07T18:46:19.5165400"), but the spec says date-time (RFC 3339),
    # which needs one: we follow the spec and add "Z" so the contract tests hold.
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _client(state: SandboxState, request: Request) -> App:
    """Client credentials from HTTP Basic (Xero's way) or, failing that, the form body."""
    client_id, secret = request.form.get("client_id", ""), request.form.get("client_secret", "")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client") from None
    return state.identity.client(client_id, secret)


def _back(redirect_uri: str, params: dict[str, str]) -> Response:
    joiner = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{joiner}{urlencode(params)}", code=302)


def _page(html: str, status: int = 200) -> Response:
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def _error_page(message: str) -> Response:
    return _page(error_html(message), 400)
