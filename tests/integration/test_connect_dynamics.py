"""Connect to Dynamics end to end: the sandbox's Microsoft sign-in page over real HTTPS, Global Discovery,
choosing an environment, app-only credentials, and the client that background work uses."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from shared.connections.dynamics_access import dataverse_client_for, home_account_id
from shared.connections.dynamics_app_only import APP_REFUSED
from shared.connections.dynamics_connect import CODE_USED, DENIED, NOT_OFFERED
from shared.connections.lights import SIGN_IN_DYNAMICS, dynamics_light
from shared.connections.results import STATE_EXPIRED, Connected, ConnectFailed, NeedsChoice
from shared.connections.sync_form import ValidationFailed
from shared.dataverse.token_registry import TokenRegistry
from shared.errors import NotFoundError, ReconnectRequired
from tests.integration.connection_helpers import (
    ADMIN,
    DYNAMICS_REDIRECT,
    PRODUCTION,
    SANDBOX_ENV,
    World,
    microsoft_sign_in,
)


def _sign_in(world: World, connection_id: str, upn: str = ADMIN, action: str = "accept") -> dict[str, str]:
    return microsoft_sign_in(
        world, world.dynamics.begin("acct-a", connection_id, DYNAMICS_REDIRECT), upn, action
    )


def _environment(world: World, name: str) -> tuple[str, str]:
    """(organisation id, org URL) of a sandbox environment by friendly name."""
    env = next(e for e in world.dataverse.identity.environments if e.friendly_name == name)
    return env.id, world.dataverse.env_url(env.url_name)


def test_signing_in_offers_both_environments_and_stores_the_chosen_one(world: World) -> None:
    # GIVEN the admin signs in on the Microsoft page
    connection = world.new_connection()
    result = world.dynamics.complete("acct-a", _sign_in(world, connection.id))
    # THEN both environments of the tenant are offered, nothing stored yet
    assert isinstance(result, NeedsChoice)
    assert sorted(c.name for c in result.choices) == [PRODUCTION, SANDBOX_ENV]
    assert world.reload(connection).dynamics.org_url == ""
    # WHEN the customer picks the sandbox environment
    org_id, org_url = _environment(world, SANDBOX_ENV)
    assert world.dynamics.choose("acct-a", result.pick_token, org_id) == Connected(SANDBOX_ENV)
    # THEN its URL, organisation id, name, tenant and the MSAL cache are stored
    dynamics = world.reload(connection).dynamics
    assert (dynamics.org_url, dynamics.organisation_id, dynamics.environment_name) == (
        org_url,
        org_id,
        SANDBOX_ENV,
    )
    assert dynamics.tenant_id == world.dataverse.identity.directory.tenant.id
    assert dynamics.auth_mode == "delegated" and home_account_id(dynamics.msal_cache)
    # AND background work reaches that environment as the admin, silently
    client = dataverse_client_for(world.reload(connection), world.store, world.settings, world.session)
    assert client.whoami().organization_id == org_id
    # AND the light now asks for the install
    assert dynamics_light(dynamics).action_label == "Install into Dynamics"


def test_a_tenant_with_one_environment_is_connected_at_once(world: World) -> None:
    environments = world.dataverse.identity.environments
    removed = environments.pop()  # the identity stand-in's directory: Global Discovery lists what is left
    try:
        connection = world.new_connection()
        result = world.dynamics.complete("acct-a", _sign_in(world, connection.id))
    finally:
        environments.append(removed)
    assert result == Connected(environments[0].friendly_name)
    assert world.reload(connection).dynamics.organisation_id == environments[0].id


def test_an_unoffered_environment_or_a_used_pick_token_is_refused(world: World) -> None:
    connection = world.new_connection()
    first = world.dynamics.complete("acct-a", _sign_in(world, connection.id))
    second = world.dynamics.complete("acct-a", _sign_in(world, connection.id))
    assert isinstance(first, NeedsChoice) and isinstance(second, NeedsChoice)
    assert world.dynamics.choose("acct-a", first.pick_token, "not-an-environment") == ConnectFailed(
        NOT_OFFERED
    )
    assert world.dynamics.choose("acct-a", first.pick_token, first.choices[0].id) == ConnectFailed(
        STATE_EXPIRED
    )
    assert world.dynamics.choose("acct-b", second.pick_token, second.choices[0].id) == ConnectFailed(
        STATE_EXPIRED
    )
    assert world.reload(connection).dynamics.org_url == ""


def test_cancelled_sign_in_says_so(world: World) -> None:
    connection = world.new_connection()
    query = _sign_in(world, connection.id, action="cancel")
    assert query["error"] == "access_denied"
    assert world.dynamics.complete("acct-a", query) == ConnectFailed(DENIED)
    assert world.reload(connection).dynamics.msal_cache == ""


@pytest.mark.parametrize("case", ["tampered", "replayed", "expired", "other account"])
def test_a_bad_state_is_refused_with_start_again(world: World, case: str) -> None:
    connection = world.new_connection()
    query, account = _sign_in(world, connection.id), "acct-a"
    if case == "tampered":
        query["state"] = "x" + query["state"][1:]
    elif case == "replayed":
        assert isinstance(world.dynamics.complete("acct-a", dict(query)), NeedsChoice)
    elif case == "expired":
        world.clock.advance(minutes=11)
    else:
        account = "acct-b"
    assert world.dynamics.complete(account, query) == ConnectFailed(STATE_EXPIRED)
    assert world.reload(connection).dynamics.msal_cache == ""


def test_a_code_used_twice_is_refused(world: World) -> None:
    connection = world.new_connection()
    first = _sign_in(world, connection.id)
    assert isinstance(world.dynamics.complete("acct-a", first), NeedsChoice)
    # a fresh, valid state with the old code
    fresh = parse_qs(urlsplit(world.dynamics.begin("acct-a", connection.id, DYNAMICS_REDIRECT)).query)[
        "state"
    ][0]
    result = world.dynamics.complete("acct-a", {**first, "state": fresh})
    assert result == ConnectFailed(CODE_USED)


def test_app_credentials_are_verified_before_they_are_stored(world: World) -> None:
    connection = world.new_connection()
    org_id, org_url = _environment(world, PRODUCTION)
    tenant = world.dataverse.identity.directory.tenant.id
    # a wrong secret is refused and nothing is stored
    refused = world.use_app("acct-a", connection.id, org_url, tenant, "sandbox-ms-client", "wrong")
    assert refused == ConnectFailed(APP_REFUSED)
    assert world.reload(connection).dynamics.org_url == ""
    # a malformed form names its fields
    with pytest.raises(ValidationFailed) as invalid:
        world.use_app("acct-a", connection.id, "http://x", tenant, "", "s")
    assert set(invalid.value.field_errors) == {"org_url", "client_id"}
    # the right ones connect, and background work then runs as the application user
    result = world.use_app("acct-a", connection.id, org_url, tenant, "sandbox-ms-client", "sandbox-ms-secret")
    assert isinstance(result, Connected)
    stored = world.reload(connection)
    assert (stored.dynamics.auth_mode, stored.dynamics.organisation_id) == ("app", org_id)
    assert stored.dynamics.app_client_secret == "sandbox-ms-secret" and stored.dynamics.msal_cache == ""
    client = dataverse_client_for(stored, world.store, world.settings, world.session)
    assert client.whoami().organization_id == org_id
    # and another account cannot do this to the connection
    with pytest.raises(NotFoundError):
        world.use_app("acct-b", connection.id, org_url, tenant, "sandbox-ms-client", "s")


def _connected(world: World, environment: str = PRODUCTION) -> str:
    connection = world.new_connection()
    pick = world.dynamics.complete("acct-a", _sign_in(world, connection.id))
    assert isinstance(pick, NeedsChoice)
    assert isinstance(
        world.dynamics.choose("acct-a", pick.pick_token, _environment(world, environment)[0]), Connected
    )
    return connection.id


def test_a_refreshed_msal_cache_is_saved_back(world: World) -> None:
    # GIVEN a connected environment whose access tokens the identity service has forgotten
    connection_id = _connected(world)
    before = world.store.require(connection_id)
    client = dataverse_client_for(before, world.store, world.settings, world.session)
    client.whoami()
    world.dataverse.identity.expire_all_access_tokens()
    saved = world.store.require(connection_id).dynamics.msal_cache
    # WHEN background work calls again (401 -> MSAL refreshes with the stored refresh token)
    client.whoami()
    # THEN the rotated cache was written back, for the same account
    after = world.store.require(connection_id).dynamics.msal_cache
    assert after != saved
    assert home_account_id(after) == home_account_id(before.dynamics.msal_cache)


def test_a_refused_sign_in_turns_the_dynamics_light_red(world: World) -> None:
    # GIVEN a connection whose refresh token Microsoft has revoked (a password reset)
    connection_id = _connected(world)
    world.dataverse.identity.revoke_refresh_tokens(ADMIN)
    world.dataverse.identity.expire_all_access_tokens()
    client = dataverse_client_for(
        world.store.require(connection_id), world.store, world.settings, world.session
    )
    # WHEN background work needs a token
    with pytest.raises(ReconnectRequired):
        client.whoami()
    # THEN the light is red, asks for a new sign-in, and the side is not called again
    stored = world.store.require(connection_id)
    light = dynamics_light(stored.dynamics)
    assert (light.green, light.action_label, light.action) == (
        False,
        "Sign in to Dynamics again",
        SIGN_IN_DYNAMICS,
    )
    assert light.reason
    with pytest.raises(ReconnectRequired):
        dataverse_client_for(stored, world.store, world.settings, world.session)
    # AND signing in again clears it
    pick = world.dynamics.complete("acct-a", _sign_in(world, connection_id))
    assert isinstance(pick, NeedsChoice)
    world.dynamics.choose("acct-a", pick.pick_token, _environment(world, PRODUCTION)[0])
    assert world.store.require(connection_id).dynamics.error.reason == ""


def test_a_workers_token_registry_spares_token_requests_across_clients(world: World) -> None:
    # GIVEN one worker process's registry, and a first message that got a token
    connection_id = _connected(world)
    registry = TokenRegistry(world.settings, world.session)
    dataverse_client_for(
        world.store.require(connection_id), world.store, world.settings, world.session, registry
    ).whoami()
    world.dataverse.counter.reset()
    # WHEN the next message builds its own client for the same connection
    client = dataverse_client_for(
        world.store.require(connection_id), world.store, world.settings, world.session, registry
    )
    client.whoami()
    # THEN no request went to the identity service, only the Web API call itself
    paths = [entry["path"] for entry in world.dataverse.counter.as_list()]
    assert paths == ["/api/data/v9.2/WhoAmI"]


def test_an_environment_where_the_user_is_disabled_is_never_offered(world: World) -> None:
    # GIVEN the admin is disabled in the sandbox environment (or its security group leaves them out)
    [admin] = [u for u in world.dataverse.identity.directory.users if u.upn == ADMIN]
    sandbox = next(e for e in world.dataverse.identity.environments if e.friendly_name == SANDBOX_ENV)
    admin.disabled_in.add(sandbox.url_name)
    try:
        connection = world.new_connection()
        result = world.dynamics.complete("acct-a", _sign_in(world, connection.id))
    finally:
        admin.disabled_in.discard(sandbox.url_name)
    # THEN Global Discovery lists only Production, so nothing is asked: the one environment left is used
    assert result == Connected(PRODUCTION)
    assert world.reload(connection).dynamics.organisation_id != sandbox.id
