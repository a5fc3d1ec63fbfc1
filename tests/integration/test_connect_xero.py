"""Connect to Xero end to end: the sandbox's consent page over real HTTP, tokens stored on a real Azurite,
every way a callback can be wrong, choosing among several organisations, and disconnecting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.connections.lights import CONNECT_XERO, xero_light
from shared.connections.results import STATE_EXPIRED, Connected, ConnectFailed, NeedsChoice
from shared.connections.xero_connect import CODE_USED, DENIED, NOT_OFFERED
from shared.errors import NotFoundError, ReconnectRequired
from shared.xero.oauth import XeroOAuth
from tests.integration.connection_helpers import (
    AU,
    NZ,
    UK,
    XERO_REDIRECT,
    World,
    xero_consent,
)


def _granted(world: World, access_token: str) -> list[str]:
    """The organisations the stored sign-in reaches, as Xero sees them."""
    return sorted(
        t.tenant_name for t in XeroOAuth(world.session, world.settings).list_connections(access_token)
    )


def test_one_organisation_connects_and_the_light_turns_green(world: World) -> None:
    # GIVEN a new connection and a customer who allows one organisation on Xero's consent page
    connection = world.new_connection()
    url = world.xero.begin("acct-a", connection.id, XERO_REDIRECT)
    query = xero_consent(world, url, [NZ])
    # WHEN the callback hands the redirect's query to the service
    result = world.xero.complete("acct-a", query)
    # THEN the organisation is stored, its tokens work, and the light is green with its name
    assert result == Connected(NZ)
    stored = world.reload(connection)
    assert stored.xero.organisation_name == NZ
    assert stored.xero.tenant_id == world.xero_sandbox.state.org(NZ).tenant_id
    assert stored.xero.refresh_token and stored.xero.connection_id
    assert _granted(world, stored.xero.access_token) == [NZ]
    light = xero_light(stored.xero)
    assert light.green and NZ in light.label


def test_several_organisations_offer_a_choice_and_the_others_are_disconnected(world: World) -> None:
    # GIVEN a customer who allows all three demo organisations
    connection = world.new_connection()
    query = xero_consent(world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [NZ, AU, UK])
    # WHEN the callback completes
    result = world.xero.complete("acct-a", query)
    # THEN the page must offer the three, and nothing is stored yet
    assert isinstance(result, NeedsChoice)
    assert sorted(choice.name for choice in result.choices) == [AU, NZ, UK]
    assert world.reload(connection).xero.tenant_id == ""
    # WHEN the customer picks the Australian one
    au = next(choice for choice in result.choices if choice.name == AU)
    assert world.xero.choose("acct-a", result.pick_token, au.id) == Connected(AU)
    # THEN it is stored, and the sign-in no longer reaches the two that were not chosen
    stored = world.reload(connection)
    assert (stored.xero.tenant_id, stored.xero.organisation_name) == (au.id, AU)
    assert _granted(world, stored.xero.access_token) == [AU]
    # AND the pick token was single use
    assert world.xero.choose("acct-a", result.pick_token, au.id) == ConnectFailed(STATE_EXPIRED)


def test_a_pick_token_of_another_account_or_an_unoffered_organisation_is_refused(world: World) -> None:
    connection = world.new_connection()
    first = world.xero.complete(
        "acct-a", xero_consent(world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [NZ, AU])
    )
    second = world.xero.complete(
        "acct-a", xero_consent(world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [NZ, AU])
    )
    assert isinstance(first, NeedsChoice) and isinstance(second, NeedsChoice)
    # WHEN another account presents the pick token, or the customer posts an organisation never offered
    assert world.xero.choose("acct-b", first.pick_token, first.choices[0].id) == ConnectFailed(STATE_EXPIRED)
    assert world.xero.choose("acct-a", second.pick_token, "not-offered") == ConnectFailed(NOT_OFFERED)
    # AND a pick token cannot stand in for a consent state at the callback
    third = world.xero.complete(
        "acct-a", xero_consent(world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [NZ, AU])
    )
    assert isinstance(third, NeedsChoice)
    assert world.xero.complete("acct-a", {"code": "x", "state": third.pick_token}) == ConnectFailed(
        STATE_EXPIRED
    )
    # THEN nothing was stored, and the burnt first token no longer works for its owner either
    assert world.reload(connection).xero.tenant_id == ""
    assert world.xero.choose("acct-a", first.pick_token, first.choices[0].id) == ConnectFailed(STATE_EXPIRED)


def test_denied_consent_says_so_and_stores_nothing(world: World) -> None:
    connection = world.new_connection()
    query = xero_consent(
        world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [], decision="cancel"
    )
    assert query["error"] == "access_denied"
    result = world.xero.complete("acct-a", query)
    assert result == ConnectFailed(DENIED, retry_possible=True)
    assert "chose not to connect" in DENIED
    assert world.reload(connection).xero.tenant_id == ""


@pytest.mark.parametrize("case", ["tampered", "replayed", "expired", "other account", "missing"])
def test_a_bad_state_is_refused_with_start_again(world: World, case: str) -> None:
    # GIVEN a real consent answer
    connection = world.new_connection()
    query = xero_consent(world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [NZ])
    account = "acct-a"
    if case == "tampered":
        query["state"] = query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")
    elif case == "replayed":
        assert isinstance(world.xero.complete("acct-a", dict(query)), Connected)
    elif case == "expired":
        world.clock.advance(minutes=11)
    elif case == "other account":
        account = "acct-b"
    else:
        del query["state"]
    before = world.reload(connection)
    # WHEN the callback arrives with it
    result = world.xero.complete(account, query)
    # THEN the customer is told to start again, and the connection is as it was
    assert result == ConnectFailed(STATE_EXPIRED, retry_possible=True)
    assert "expired or was already used" in STATE_EXPIRED
    assert world.reload(connection).etag == before.etag


def test_a_state_presented_by_another_account_is_burnt_for_its_owner_too(world: World) -> None:
    connection = world.new_connection()
    query = xero_consent(world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [NZ])
    assert world.xero.complete("acct-b", query) == ConnectFailed(STATE_EXPIRED)
    assert world.xero.complete("acct-a", query) == ConnectFailed(STATE_EXPIRED)


def test_a_code_used_twice_is_refused(world: World) -> None:
    # GIVEN a consent that was completed
    connection = world.new_connection()
    first = xero_consent(world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [NZ])
    assert isinstance(world.xero.complete("acct-a", first), Connected)
    # WHEN its code comes back again with a fresh, valid state
    fresh_state = world.xero.begin("acct-a", connection.id, XERO_REDIRECT).split("state=")[1].split("&")[0]
    result = world.xero.complete("acct-a", {"code": first["code"], "state": fresh_state})
    # THEN Xero's invalid_grant becomes "start again"
    assert result == ConnectFailed(CODE_USED, retry_possible=True)


def test_disconnect_revokes_the_sign_in_and_the_light_asks_to_connect(world: World) -> None:
    # GIVEN a connected organisation
    connection = world.new_connection()
    world.xero.complete(
        "acct-a", xero_consent(world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [NZ])
    )
    connected = world.reload(connection)
    # WHEN the customer disconnects
    world.xero.disconnect("acct-a", connection.id)
    # THEN our copy is gone, the light is red with "Connect to Xero" and Xero refuses the old refresh token
    stored = world.reload(connection)
    assert (stored.xero.tenant_id, stored.xero.refresh_token, stored.xero.access_token) == ("", "", "")
    light = xero_light(stored.xero)
    assert (light.green, light.action_label, light.action) == (False, "Connect to Xero", CONNECT_XERO)
    with pytest.raises(ReconnectRequired):
        XeroOAuth(world.session, world.settings).refresh(connected.xero.refresh_token)
    assert not any(
        c.tenant_id == connected.xero.tenant_id
        for c in world.xero_sandbox.state.identity.connections.values()
    )


def test_another_accounts_connection_cannot_be_connected_or_disconnected(world: World) -> None:
    connection = world.new_connection("acct-a")
    with pytest.raises(NotFoundError) as other:
        world.xero.begin("acct-b", connection.id, XERO_REDIRECT)
    with pytest.raises(NotFoundError) as missing:
        world.xero.begin("acct-b", "00000000-0000-4000-8000-000000000000", XERO_REDIRECT)
    assert str(other.value).replace(connection.id, "X") == str(missing.value).replace(
        "00000000-0000-4000-8000-000000000000", "X"
    )
    with pytest.raises(NotFoundError):
        world.xero.disconnect("acct-b", connection.id)
    assert world.reload(connection).account_id == "acct-a"


def test_the_trial_starts_when_the_connection_is_created(world: World) -> None:
    connection = world.new_connection()
    assert connection.status == "draft" and connection.plan == "trial"
    assert connection.trial_ends_at is not None
    days = (connection.trial_ends_at - datetime.now(UTC)).total_seconds() / 86400
    assert 13.99 < days <= 14.0


def test_a_code_from_someone_elses_consent_cannot_be_injected_into_our_callback(world: World) -> None:
    # issue 16 (PKCE, RFC 7636): an attacker consents to their own Xero organisation and stops before the
    # redirect, then gets the victim's browser to bring that code back with the victim's own valid state
    theirs = world.new_connection("acct-b", "Attacker")
    stolen = xero_consent(world, world.xero.begin("acct-b", theirs.id, XERO_REDIRECT), [AU])
    victim = world.new_connection()
    victim_url = world.xero.begin("acct-a", victim.id, XERO_REDIRECT)
    assert "code_challenge_method=S256" in victim_url and "code_challenge=" in victim_url
    state = victim_url.split("state=")[1].split("&")[0]
    result = world.xero.complete("acct-a", {"code": stolen["code"], "state": state})
    # THEN the code is worthless without the attacker's verifier: nothing is connected
    assert isinstance(result, ConnectFailed)
    assert world.reload(victim).xero.tenant_id == ""


def test_an_abandoned_organisation_choice_is_purged_and_its_sign_in_revoked(world: World) -> None:
    # issue 16: a customer consents to several organisations and never picks one
    from shared.connections.state_purge import purge_abandoned_flows
    from shared.crypto import KeyRing

    identity = world.xero_sandbox.state.identity
    before = {g.auth_event_id for g in identity.grants.values() if not g.revoked}
    connection = world.new_connection()
    query = xero_consent(world, world.xero.begin("acct-a", connection.id, XERO_REDIRECT), [NZ, AU])
    assert isinstance(world.xero.complete("acct-a", query), NeedsChoice)
    abandoned = {g.auth_event_id for g in identity.grants.values() if not g.revoked} - before
    assert len(abandoned) == 1
    # WHEN the housekeeping timer runs after the choice expired
    world.clock.advance(minutes=11)
    keys = KeyRing.from_setting(world.settings.token_encryption_keys)
    purged = purge_abandoned_flows(world.states, keys, XeroOAuth(world.session, world.settings).revoke)
    # THEN the rows are gone and Xero no longer honours that sign-in
    assert purged >= 2  # the consent state (used) and the pick token (abandoned)
    assert all(identity.grants[g].revoked for g in abandoned)
    assert world.states.purge_expired() == 0


def test_connecting_never_disconnects_an_organisation_another_account_uses(world: World) -> None:
    # issue 16: another customer's connection uses NZ through the same Xero user and app
    theirs = world.new_connection("acct-b", "Theirs")
    begun = world.xero.begin("acct-b", theirs.id, XERO_REDIRECT)
    assert world.xero.complete("acct-b", xero_consent(world, begun, [NZ])) == Connected(NZ)
    nz = world.reload(theirs).xero.tenant_id
    # WHEN this account consents to NZ and AU and keeps AU
    mine = world.new_connection("acct-a")
    result = world.xero.complete(
        "acct-a", xero_consent(world, world.xero.begin("acct-a", mine.id, XERO_REDIRECT), [NZ, AU])
    )
    assert isinstance(result, NeedsChoice)
    au = next(c for c in result.choices if c.name == AU)
    assert world.xero.choose("acct-a", result.pick_token, au.id) == Connected(AU)
    # THEN NZ stays connected to the app: the other customer's connection keeps working
    assert any(c.tenant_id == nz for c in world.xero_sandbox.state.identity.connections.values())
