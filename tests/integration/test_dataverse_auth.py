"""Dynamics sign-in through MSAL against the sandbox Dataverse over real TLS: the auth-code round trip,
Global Discovery, silent tokens from the stored cache, a forced refresh after a 401, app-only tokens."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests

from local.sandbox.dataverse import DataverseSandbox
from shared.config import Settings
from shared.dataverse.auth import SignInError, complete_sign_in
from shared.dataverse.client import DataverseClient
from shared.dataverse.discovery import list_environments
from shared.dataverse.token_registry import TokenRegistry
from shared.dataverse.tokens import AppOnlyTokens, DelegatedTokens
from shared.errors import ReconnectRequired
from tests.support.dataverse_sign_in import ADMIN, sign_in, signed_in


def token_requests(sb: DataverseSandbox) -> int:
    return sum(r["count"] for r in sb.counter.as_list() if r["path"].endswith("/oauth2/v2.0/token"))


def test_sign_in_lists_environments_and_gives_a_silent_token_for_the_chosen_one(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    # GIVEN the admin signed in for Global Discovery only
    result = signed_in(sb, dataverse_settings, dataverse_session, ADMIN)
    assert result.username == ADMIN
    assert result.tenant_id == sb.identity.environments[0].tenant_id
    assert result.cache_blob and result.home_account_id
    # WHEN the connector lists the environments with a token from the stored cache
    environments = list_environments(
        dataverse_settings, dataverse_session, result.cache_blob, result.home_account_id
    )
    # THEN both sandbox environments are offered, with the URLs tokens are asked for
    assert sorted(e.url_name for e in environments) == ["contoso", "contoso-sandbox"]
    chosen = next(e for e in environments if e.url_name == "contoso-sandbox")
    assert chosen.url == sb.env_url("contoso-sandbox") and chosen.friendly_name == "Contoso (Sandbox)"
    assert chosen.tenant_id == result.tenant_id and chosen.version
    # AND the same refresh token gives, silently, a token that works in the chosen environment
    tokens = DelegatedTokens(
        dataverse_settings,
        dataverse_session,
        result.cache_blob,
        result.home_account_id,
        tenant=result.tenant_id,
    )
    me = DataverseClient(chosen.url, tokens.for_org(chosen.url), dataverse_session).whoami()
    admin = next(u for u in sb.identity.users() if u["upn"] == ADMIN)
    assert me.user_id == admin["systemuserids"]["contoso-sandbox"]


def test_global_discovery_leaves_out_environments_where_the_user_is_disabled(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    # Learn, "Discover user organizations" → Limitations: nothing for an environment where the user is
    # disabled or left out by the security group; an empty list (not an error) when none is left
    result = signed_in(sb, dataverse_settings, dataverse_session, ADMIN)
    [admin] = [u for u in sb.identity.directory.users if u.upn == ADMIN]

    def listed() -> list[str]:
        found = list_environments(
            dataverse_settings, dataverse_session, result.cache_blob, result.home_account_id
        )
        return sorted(e.url_name for e in found)

    try:
        admin.disabled_in.add("contoso-sandbox")
        assert listed() == ["contoso"]
        admin.disabled_in.add("contoso")
        assert listed() == []
    finally:
        admin.disabled_in.clear()
    assert listed() == ["contoso", "contoso-sandbox"]


def test_a_cancelled_sign_in_is_refused_in_words(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    flow, auth_response = sign_in(sb, dataverse_settings, dataverse_session, ADMIN, action="cancel")
    with pytest.raises(SignInError) as refused:
        complete_sign_in(dataverse_settings, dataverse_session, flow, auth_response)
    assert refused.value.code == "access_denied" and "cancelled" in refused.value.message


def test_an_answer_for_another_sign_in_is_refused(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    flow, auth_response = sign_in(sb, dataverse_settings, dataverse_session, ADMIN)
    with pytest.raises(SignInError) as refused:
        complete_sign_in(dataverse_settings, dataverse_session, flow, {**auth_response, "state": "forged"})
    assert refused.value.code == "state_mismatch" and "forged" not in str(refused.value)


def test_a_code_redeemed_twice_is_refused(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    flow, auth_response = sign_in(sb, dataverse_settings, dataverse_session, ADMIN)
    complete_sign_in(dataverse_settings, dataverse_session, copy.deepcopy(flow), auth_response)
    with pytest.raises(SignInError) as refused:
        complete_sign_in(dataverse_settings, dataverse_session, copy.deepcopy(flow), auth_response)
    assert refused.value.code == "invalid_grant" and "sign in to Dynamics again" in refused.value.message


def test_tokens_are_reused_then_refreshed_once_after_a_401(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    # GIVEN a signed-in connection whose provider reports cache changes to the store
    result = signed_in(sb, dataverse_settings, dataverse_session, ADMIN)
    saved: list[str] = []
    tokens = DelegatedTokens(
        dataverse_settings,
        dataverse_session,
        result.cache_blob,
        result.home_account_id,
        tenant=result.tenant_id,
        on_cache_changed=saved.append,
    )
    env_url = sb.env_url("contoso")
    client = DataverseClient(env_url, tokens.for_org(env_url), dataverse_session)
    client.whoami()
    # WHEN five more requests are made
    before = token_requests(sb)
    for _ in range(5):
        client.whoami()
    # THEN none of them asked the identity service for a token
    assert token_requests(sb) == before
    # WHEN every access token dies early (Dataverse answers 401) and the connector calls again
    sb.identity.expire_all_access_tokens()
    saved.clear()
    me = client.whoami()
    # THEN exactly one forced refresh happened, the call succeeded, and the new cache was handed over
    assert token_requests(sb) == before + 1
    admin = next(u for u in sb.identity.users() if u["upn"] == ADMIN)
    assert me.user_id == admin["systemuserids"]["contoso"]
    assert len(saved) == 1 and saved[0] != result.cache_blob


def test_a_revoked_sign_in_asks_the_customer_to_reconnect(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    # GIVEN a connection whose user's sessions were revoked (like a password reset)
    result = signed_in(sb, dataverse_settings, dataverse_session, ADMIN)
    tokens = DelegatedTokens(
        dataverse_settings,
        dataverse_session,
        result.cache_blob,
        result.home_account_id,
        tenant=result.tenant_id,
    )
    env_url = sb.env_url("contoso")
    token = tokens.token_for(env_url)
    sb.identity.revoke_refresh_tokens(ADMIN)
    sb.identity.expire_all_access_tokens()
    # WHEN the connector calls Dataverse
    with pytest.raises(ReconnectRequired) as refused:
        DataverseClient(env_url, tokens.for_org(env_url), dataverse_session).whoami()
    # THEN the Dynamics side must be reconnected, and no token is in the message
    assert refused.value.side == "dynamics" and "sign in to Dynamics again" in refused.value.reason
    assert token not in str(refused.value)


def test_app_only_tokens_act_as_the_application_user_and_survive_expiry(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    # GIVEN the connector's app registration in the customer's tenant
    tenant_id = sb.identity.environments[0].tenant_id
    env_url = sb.env_url("contoso")
    client = DataverseClient(
        env_url,
        AppOnlyTokens(dataverse_settings, dataverse_session, tenant_id).for_org(env_url),
        dataverse_session,
    )
    # WHEN it calls Dataverse, before and after every token expired
    first = client.whoami()
    sb.identity.expire_all_access_tokens()
    second = client.whoami()
    # THEN both calls ran as the environment's application user
    app_user = sb.identity.application_users()[0]["systemuserids"]["contoso"]
    assert first.user_id == second.user_id == app_user


def test_a_wrong_app_secret_is_a_reconnect(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    tenant_id = sb.identity.environments[0].tenant_id
    tokens = AppOnlyTokens(
        dataverse_settings, dataverse_session, tenant_id, client_id="sandbox-ms-client", client_secret="wrong"
    )
    with pytest.raises(ReconnectRequired) as refused:
        tokens.token_for(sb.env_url("contoso"))
    assert refused.value.side == "dynamics" and "wrong" not in str(refused.value)


def test_the_worker_registry_keeps_providers_and_their_tokens_between_messages(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> None:
    # GIVEN a worker's registry, a signed-in connection (its cache as the store holds it) and app-only access
    registry = TokenRegistry(dataverse_settings, dataverse_session)
    result = signed_in(sb, dataverse_settings, dataverse_session, ADMIN)
    tenant_id, env_url = result.tenant_id, sb.env_url("contoso")
    store: dict[str, Any] = {"blob": result.cache_blob, "saves": 0}

    def save(blob: str) -> None:
        store["blob"], store["saves"] = blob, store["saves"] + 1

    def message() -> DelegatedTokens:
        """What each queue message does: look the providers up with the stored cache, call Dataverse."""
        tokens = registry.delegated("conn-1", str(store["blob"]), result.home_account_id, tenant_id, save)
        DataverseClient(env_url, tokens.for_org(env_url), dataverse_session).whoami()
        DataverseClient(env_url, registry.app_only(tenant_id).for_org(env_url), dataverse_session).whoami()
        return tokens

    first = message()
    assert store["saves"] == 1  # the first token for this environment went into the cache
    before = token_requests(sb)
    # WHEN more messages arrive
    assert message() is first and message() is first
    # THEN no token was requested for them
    assert token_requests(sb) == before
    # WHEN tokens die, the provider refreshes and saves the new cache
    sb.identity.expire_all_access_tokens()
    assert message() is first and store["saves"] == 2
    # THEN the provider is kept for the cache it saved, replaced for one it did not write (a reconnect)
    assert message() is first
    store["blob"] = result.cache_blob
    assert message() is not first
