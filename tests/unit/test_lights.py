"""The two status lights and the trial banner, from stored facts only (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.connections.lights import (
    APP_CREDENTIALS_DYNAMICS,
    ASK_ADMIN,
    CONNECT_DYNAMICS,
    CONNECT_XERO,
    INSTALL_DYNAMICS,
    RECONNECT_XERO,
    SIGN_IN_DYNAMICS,
    Light,
    lights,
    trial_status,
)
from shared.store.models import Connection, DynamicsSide, Problem, XeroSide

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _xero(**fields: object) -> XeroSide:
    side = XeroSide(tenant_id="t-1", organisation_name="Demo Company (NZ)", refresh_token="rt")
    for name, value in fields.items():
        setattr(side, name, value)
    return side


def _dynamics(**fields: object) -> DynamicsSide:
    side = DynamicsSide(
        org_url="https://contoso.crm.dynamics.com",
        environment_name="Contoso (Production)",
        msal_cache='{"Account": {}}',
        webhook_registered=True,
    )
    for name, value in fields.items():
        setattr(side, name, value)
    return side


def _lights(xero: XeroSide | None = None, dynamics: DynamicsSide | None = None) -> tuple[Light, Light]:
    connection = Connection(
        id="c-1", account_id="a-1", xero=xero or _xero(), dynamics=dynamics or _dynamics()
    )
    return lights(connection, NOW)


def test_a_new_connection_has_two_red_lights_asking_to_connect() -> None:
    xero, dynamics = lights(Connection(id="c-1", account_id="a-1"), NOW)
    assert (xero.green, xero.action_label, xero.action) == (False, "Connect to Xero", CONNECT_XERO)
    assert (dynamics.green, dynamics.action_label, dynamics.action) == (
        False,
        "Connect to Dynamics",
        CONNECT_DYNAMICS,
    )
    assert xero.reason and dynamics.reason


def test_a_fully_connected_connection_is_green_with_names() -> None:
    xero, dynamics = _lights()
    assert xero == Light(True, "Connected to Demo Company (NZ)")
    assert dynamics == Light(True, "Connected to Contoso (Production)")


def test_xero_refusing_the_refresh_token_asks_to_reconnect_with_its_reason() -> None:
    refused = _xero(
        refresh_token="", error=Problem("Xero refused the saved sign-in (invalid_grant)", "Reconnect")
    )
    xero, _ = _lights(xero=refused)
    assert (xero.green, xero.reason) == (False, "Xero refused the saved sign-in (invalid_grant)")
    assert (xero.action_label, xero.action) == ("Reconnect to Xero", RECONNECT_XERO)


def test_a_refused_dynamics_sign_in_asks_to_sign_in_again() -> None:
    _, dynamics = _lights(dynamics=_dynamics(error=Problem("Microsoft refused the saved sign-in", "x")))
    assert (dynamics.green, dynamics.reason) == (False, "Microsoft refused the saved sign-in")
    assert (dynamics.action_label, dynamics.action) == ("Sign in to Dynamics again", SIGN_IN_DYNAMICS)


def test_a_refused_app_registration_asks_for_its_credentials_again() -> None:
    app = _dynamics(auth_mode="app", msal_cache="", app_client_id="id", app_client_secret="s")
    app.error = Problem("Microsoft refused the app registration (invalid_client)", "")
    _, dynamics = _lights(dynamics=app)
    assert (dynamics.green, dynamics.action) == (False, APP_CREDENTIALS_DYNAMICS)
    assert dynamics.action_label == "Enter the app's client id and secret again"


def test_an_environment_without_the_webhook_asks_for_the_install() -> None:
    _, dynamics = _lights(dynamics=_dynamics(webhook_registered=False))
    assert (dynamics.green, dynamics.action_label, dynamics.action) == (
        False,
        "Install into Dynamics",
        INSTALL_DYNAMICS,
    )
    assert "Contoso (Production)" in dynamics.label


@pytest.mark.parametrize("registered", [True, False])
def test_missing_privileges_are_named_with_whom_to_ask(registered: bool) -> None:
    side = _dynamics(webhook_registered=registered, privileges_missing=["Create Entity", "Write Invoice"])
    _, dynamics = _lights(dynamics=side)
    assert (dynamics.green, dynamics.action) == (False, ASK_ADMIN)
    assert dynamics.action_label == "Ask your Dynamics administrator for: Create Entity, Write Invoice"
    assert "Create Entity, Write Invoice" in dynamics.reason


def test_app_only_mode_counts_as_connected_with_its_secret() -> None:
    app = _dynamics(auth_mode="app", msal_cache="", app_client_id="id", app_client_secret="s")
    assert _lights(dynamics=app)[1].green
    app.app_client_secret = ""
    assert _lights(dynamics=app)[1].action == CONNECT_DYNAMICS


def test_the_trial_banner_counts_down_then_says_it_ended_without_stopping_anything() -> None:
    connection = Connection(
        id="c-1", account_id="a-1", plan="trial", trial_ends_at=NOW + timedelta(days=3, hours=1)
    )
    running = trial_status(connection, NOW)
    assert (running.on_trial, running.expired, running.banner) == (
        True,
        False,
        "Your free trial ends in 4 days.",  # 3 days and an hour: rounded up
    )
    just_begun = Connection(id="c-2", account_id="a-1", plan="trial", trial_ends_at=NOW + timedelta(days=14))
    assert trial_status(just_begun, NOW + timedelta(minutes=5)).banner == "Your free trial ends in 14 days."
    assert (
        trial_status(connection, NOW + timedelta(days=3)).banner == "Your free trial ends in less than a day."
    )
    ended = trial_status(connection, NOW + timedelta(days=4))
    assert ended.expired and "ended on 13 March 2026" in ended.banner and "choose a plan" in ended.banner
    # the lights do not depend on the trial: an ended trial still syncs
    assert lights(connection, NOW + timedelta(days=4)) == lights(connection, NOW)
    connection.plan = "starter"
    assert "add billing details for Starter" in trial_status(connection, NOW + timedelta(days=4)).banner


def test_no_trial_date_means_no_banner() -> None:
    assert trial_status(Connection(id="c-1", account_id="a-1"), NOW).banner == ""
