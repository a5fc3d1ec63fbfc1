"""Refusals come back in Entra ID's shape: error, AADSTS description, error_codes, ids and timestamp."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlencode

import requests

from .conftest import CLIENT_ID, CLIENT_SECRET, Sandbox, sign_in

REDIRECT = "http://127.0.0.1:7071/callback"


def assert_aad_error(answer: requests.Response | dict[str, Any], error: str, code: int) -> None:
    body = answer.json() if isinstance(answer, requests.Response) else answer
    assert body["error"] == error, body
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)


def code_with_pkce(sandbox: Sandbox, verifier: str) -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": f"{sandbox.env_url('contoso')}/user_impersonation offline_access openid profile",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    _, auth_response = sign_in(
        sandbox.session,
        f"{sandbox.url}/contoso/oauth2/v2.0/authorize?{urlencode(query)}",
        "admin@contoso.example",
    )
    assert auth_response["state"] == "s1"
    return auth_response["code"]


def redeem(sandbox: Sandbox, code: str, verifier: str, secret: str = CLIENT_SECRET) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": secret,
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": REDIRECT,
        "scope": f"{sandbox.env_url('contoso')}/user_impersonation offline_access openid",
    }
    return sandbox.session.post(f"{sandbox.url}/contoso/oauth2/v2.0/token", data=form)


def test_wrong_pkce_verifier_is_refused(sandbox: Sandbox) -> None:
    verifier = "v" * 50
    code = code_with_pkce(sandbox, verifier)
    answer = redeem(sandbox, code, "w" * 50)
    assert answer.status_code == 400
    assert_aad_error(answer, "invalid_grant", 501481)


def test_a_code_is_redeemed_once(sandbox: Sandbox) -> None:
    verifier = "v" * 50
    code = code_with_pkce(sandbox, verifier)
    first = redeem(sandbox, code, verifier)
    second = redeem(sandbox, code, verifier)
    assert first.status_code == 200 and "refresh_token" in first.json(), first.text
    assert second.status_code == 400
    assert_aad_error(second, "invalid_grant", 54005)


def test_an_expired_code_is_refused(sandbox: Sandbox) -> None:
    verifier = "v" * 50
    code = code_with_pkce(sandbox, verifier)
    sandbox.clock.advance(601)
    assert_aad_error(redeem(sandbox, code, verifier), "invalid_grant", 70008)


def test_wrong_secret_is_refused_for_every_grant(sandbox: Sandbox) -> None:
    # GIVEN an app configured with a wrong secret
    app = sandbox.msal_app(secret="not-the-secret")
    # WHEN it asks for an app-only token, and someone redeems a valid code with it
    app_only = app.acquire_token_for_client([f"{sandbox.env_url('contoso')}/.default"])
    verifier = "v" * 50
    by_code = redeem(sandbox, code_with_pkce(sandbox, verifier), verifier, secret="not-the-secret")
    # THEN both are invalid_client (401), and MSAL hands the AAD error through
    assert_aad_error(app_only, "invalid_client", 7000215)
    assert by_code.status_code == 401
    assert_aad_error(by_code, "invalid_client", 7000215)


def test_basic_client_authentication_is_accepted(sandbox: Sandbox) -> None:
    form = {"grant_type": "client_credentials", "scope": f"{sandbox.env_url('contoso')}/.default"}
    answer = sandbox.session.post(
        f"{sandbox.url}/contoso/oauth2/v2.0/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer" and answer.json()["expires_in"] == 3600


def test_scope_and_grant_type_errors(sandbox: Sandbox) -> None:
    url = f"{sandbox.url}/contoso/oauth2/v2.0/token"
    base = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    env = sandbox.env_url("contoso")
    delegated_for_app = sandbox.session.post(
        url, data={**base, "grant_type": "client_credentials", "scope": f"{env}/user_impersonation"}
    )
    unknown_resource = sandbox.session.post(
        url, data={**base, "grant_type": "client_credentials", "scope": f"{sandbox.url}/env/nowhere/.default"}
    )
    password_grant = sandbox.session.post(url, data={**base, "grant_type": "password"})
    unknown_refresh = sandbox.session.post(
        url, data={**base, "grant_type": "refresh_token", "refresh_token": "nope", "scope": f"{env}/.default"}
    )
    assert_aad_error(delegated_for_app, "invalid_scope", 1002012)
    assert_aad_error(unknown_resource, "invalid_resource", 500011)
    assert_aad_error(password_grant, "unsupported_grant_type", 70003)
    assert_aad_error(unknown_refresh, "invalid_grant", 9002313)


def test_revoked_refresh_token_means_reconnect(sandbox: Sandbox) -> None:
    # GIVEN a user with a refresh token
    verifier = "v" * 50
    tokens = redeem(sandbox, code_with_pkce(sandbox, verifier), verifier).json()
    # WHEN the user's sessions are revoked (password reset)
    sandbox.identity.revoke_refresh_tokens("admin@contoso.example")
    answer = sandbox.session.post(
        f"{sandbox.url}/contoso/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": tokens["refresh_token"],
            "scope": f"{sandbox.env_url('contoso')}/.default offline_access",
        },
    )
    # THEN the refresh is invalid_grant: the connector must ask the user to connect again
    assert_aad_error(answer, "invalid_grant", 50173)
