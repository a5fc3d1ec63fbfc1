"""MSAL Python, unchanged, against the stand-in over real TLS: sign in, refresh silently, app-only."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Sandbox, sign_in


def claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def sign_in_with_msal(sandbox: Sandbox, scope: str, upn: str = "admin@contoso.example") -> dict[str, Any]:
    app = sandbox.msal_app()
    flow = app.initiate_auth_code_flow(
        [scope], redirect_uri="http://127.0.0.1:7071/api/oauth/dynamics/callback", response_mode="form_post"
    )
    _, auth_response = sign_in(sandbox.session, flow["auth_uri"], upn)
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    result["_app"] = app
    return result


def test_auth_code_flow_gives_a_token_bound_to_the_environment(sandbox: Sandbox) -> None:
    # GIVEN the production environment's delegated scope
    env_url = sandbox.env_url("contoso")
    # WHEN MSAL runs the auth-code flow (PKCE, nonce, client_info) and the admin accepts
    result = sign_in_with_msal(sandbox, f"{env_url}/user_impersonation")
    # THEN MSAL accepts the answer, caches an account, and the token works for that environment only
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == "admin@contoso.example"
    assert [a["username"] for a in result["_app"].get_accounts()] == ["admin@contoso.example"]
    principal = sandbox.identity.authenticate(f"Bearer {result['access_token']}", env_url)
    assert principal is not None and principal.upn == "admin@contoso.example" and not principal.app_only
    admin = next(u for u in sandbox.identity.users() if u["upn"] == "admin@contoso.example")
    assert principal.user_id == admin["systemuserids"]["contoso"]
    assert claims(result["access_token"])["aud"] == env_url
    other_env = sandbox.env_url("contoso-sandbox")
    assert sandbox.identity.authenticate(f"Bearer {result['access_token']}", other_env) is None


def test_silent_refresh_returns_a_new_access_token(sandbox_factory: Callable[..., Sandbox]) -> None:
    # GIVEN tokens that live 300 s, which MSAL already treats as due for refresh
    sandbox = sandbox_factory(access_token_lifetime=300)
    scope = f"{sandbox.env_url('contoso')}/user_impersonation"
    first = sign_in_with_msal(sandbox, scope)
    app = first["_app"]
    # WHEN the stand-in's clock passes the first token's expiry and the connector asks MSAL silently
    sandbox.clock.advance(301)
    assert (
        sandbox.identity.authenticate(f"Bearer {first['access_token']}", sandbox.env_url("contoso")) is None
    )
    second = app.acquire_token_silent([scope], account=app.get_accounts()[0])
    # THEN MSAL used the refresh token and got a new, valid access token
    assert second is not None and "access_token" in second, second
    assert second["token_source"] == "identity_provider"
    assert second["access_token"] != first["access_token"]
    principal = sandbox.identity.authenticate(f"Bearer {second['access_token']}", sandbox.env_url("contoso"))
    assert principal is not None and principal.upn == "admin@contoso.example"


def test_expired_tokens_are_refused_until_a_forced_refresh(sandbox: Sandbox) -> None:
    # GIVEN a signed-in admin
    scope = f"{sandbox.env_url('contoso')}/user_impersonation"
    first = sign_in_with_msal(sandbox, scope)
    app = first["_app"]
    # WHEN the sandbox expires every access token
    sandbox.identity.expire_all_access_tokens()
    # THEN the old token is refused and a forced silent refresh gets a working one
    assert (
        sandbox.identity.authenticate(f"Bearer {first['access_token']}", sandbox.env_url("contoso")) is None
    )
    fresh = app.acquire_token_silent([scope], account=app.get_accounts()[0], force_refresh=True)
    assert fresh is not None and fresh["access_token"] != first["access_token"]
    assert sandbox.identity.authenticate(f"Bearer {fresh['access_token']}", sandbox.env_url("contoso"))


def test_one_refresh_token_serves_discovery_then_an_environment(sandbox: Sandbox) -> None:
    # GIVEN a sign-in for Global Discovery only (the connector does not know the environment yet)
    first = sign_in_with_msal(sandbox, f"{sandbox.url}/user_impersonation", upn="limited@contoso.example")
    app = first["_app"]
    # WHEN the connector then asks silently for a chosen environment
    env_scope = f"{sandbox.env_url('contoso-sandbox')}/.default"
    env_token = app.acquire_token_silent([env_scope], account=app.get_accounts()[0])
    # THEN the refresh token, like Entra ID's, is good for another resource
    assert env_token is not None and "access_token" in env_token, env_token
    principal = sandbox.identity.authenticate(
        f"Bearer {env_token['access_token']}", sandbox.env_url("contoso-sandbox")
    )
    limited = next(u for u in sandbox.identity.users() if u["upn"] == "limited@contoso.example")
    assert principal is not None and principal.user_id == limited["systemuserids"]["contoso-sandbox"]


def test_client_credentials_act_as_the_application_user(sandbox: Sandbox) -> None:
    # GIVEN the registered app
    app = sandbox.msal_app()
    env_url = sandbox.env_url("contoso")
    # WHEN it asks for an app-only token for the environment
    result = app.acquire_token_for_client([f"{env_url}/.default"])
    # THEN the token speaks for the environment's application user
    assert "access_token" in result, result
    principal = sandbox.identity.authenticate(f"Bearer {result['access_token']}", env_url)
    app_user = sandbox.identity.application_users()[0]["systemuserids"]["contoso"]
    assert (
        principal is not None and principal.app_only and principal.user_id == app_user and principal.upn == ""
    )


@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_tenant_id_and_organizations_authorities_work_too(sandbox: Sandbox) -> None:
    # GIVEN the tenant's id, as a connector stores it after the first sign-in
    tenant_id = sandbox.identity.environments[0].tenant_id
    scope = f"{sandbox.env_url('contoso')}/.default"
    # WHEN MSAL uses the tenant-id authority for app-only and "organizations" for a user sign-in
    by_id = sandbox.msal_app(tenant=tenant_id).acquire_token_for_client([scope])
    app = sandbox.msal_app(tenant="organizations")
    flow = app.initiate_auth_code_flow([scope], redirect_uri="http://localhost:7071/callback")
    _, auth_response = sign_in(sandbox.session, flow["auth_uri"], "admin@contoso.example")
    by_user = app.acquire_token_by_auth_code_flow(flow, auth_response)
    # THEN both succeed and the user's token names the real tenant
    assert "access_token" in by_id, by_id
    assert by_user["id_token_claims"]["tid"] == tenant_id, by_user
