"""The two status lights of a connection, and the trial banner, derived from stored facts only (no call to
Xero or Dynamics: the connection page must render fast even when one of them is down).

Each red light says why and what to do; `action` is a key the page maps to its route or form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.store.models import Connection, DynamicsSide, XeroSide
from shared.store.plans import plan_named, trial_days_left

CONNECT_XERO, RECONNECT_XERO = "connect-xero", "reconnect-xero"
CONNECT_DYNAMICS, SIGN_IN_DYNAMICS = "connect-dynamics", "sign-in-dynamics"
INSTALL_DYNAMICS, ASK_ADMIN = "install-dynamics", "ask-dynamics-admin"
APP_CREDENTIALS_DYNAMICS = "app-credentials-dynamics"  # app-only mode: there is no sign-in to repeat


@dataclass(frozen=True)
class Light:
    green: bool
    label: str  # what the light says next to its colour
    reason: str = ""  # why it is red; empty when green
    action_label: str = ""  # the button's text; empty when green
    action: str = ""  # one of the action keys above; empty when green


@dataclass(frozen=True)
class TrialStatus:
    """Decision: an ended trial does not stop syncing (there is no billing yet); the page shows `banner`."""

    on_trial: bool
    expired: bool
    ends_at: datetime | None
    banner: str  # empty when there is nothing to say


def lights(connection: Connection, now: datetime) -> tuple[Light, Light]:
    """(Xero light, Dynamics light). `now` is accepted so callers pass one clock (the trial uses it)."""
    return xero_light(connection.xero), dynamics_light(connection.dynamics)


def xero_light(xero: XeroSide) -> Light:
    if xero.error.reason:
        return Light(False, "Xero needs attention", xero.error.reason, "Reconnect to Xero", RECONNECT_XERO)
    if not is_xero_connected(xero):
        return Light(
            False,
            "Not connected to Xero",
            "No Xero organisation is connected yet.",
            "Connect to Xero",
            CONNECT_XERO,
        )
    return Light(True, f"Connected to {xero.organisation_name or 'Xero'}")


def dynamics_light(dynamics: DynamicsSide) -> Light:
    if dynamics.error.reason:
        if dynamics.auth_mode == "app":
            label, action = "Enter the app's client id and secret again", APP_CREDENTIALS_DYNAMICS
        else:
            label, action = "Sign in to Dynamics again", SIGN_IN_DYNAMICS
        return Light(False, "Dynamics needs attention", dynamics.error.reason, label, action)
    if not is_dynamics_connected(dynamics):
        return Light(
            False,
            "Not connected to Dynamics",
            "No Dynamics 365 environment is connected yet.",
            "Connect to Dynamics",
            CONNECT_DYNAMICS,
        )
    name = dynamics.environment_name or "Dynamics"
    if dynamics.privileges_missing:
        # Before "not installed": the install stops short exactly when privileges are missing.
        missing = ", ".join(dynamics.privileges_missing)
        return Light(
            False,
            f"{name}: privileges missing",
            f"The signed-in Dynamics user lacks: {missing}.",
            f"Ask your Dynamics administrator for: {missing}",
            ASK_ADMIN,
        )
    if not dynamics.webhook_registered:
        return Light(
            False,
            f"{name}: not installed",
            "The connector is not installed into this environment yet.",
            "Install into Dynamics",
            INSTALL_DYNAMICS,
        )
    return Light(True, f"Connected to {name}")


def trial_status(connection: Connection, now: datetime) -> TrialStatus:
    """Every connection starts with a 14-day free period on the plan chosen (plans.py)."""
    ends = connection.trial_ends_at
    if ends is None:
        return TrialStatus(False, False, None, "")
    plan = plan_named(connection.plan)
    if now >= ends:
        todo = "choose a plan" if plan is None or plan.is_trial else f"add billing details for {plan.label}"
        banner = f"Your free trial ended on {ends:%d %B %Y}. Invoices still sync; {todo} to keep it that way."
        return TrialStatus(True, True, ends, banner)
    days = trial_days_left(ends, now)
    left = "less than a day" if ends - now < timedelta(days=1) else f"{days} day{'s' if days != 1 else ''}"
    return TrialStatus(True, False, ends, f"Your free trial ends in {left}.")


def is_xero_connected(xero: XeroSide) -> bool:
    return bool(xero.tenant_id and xero.refresh_token)


def is_dynamics_connected(dynamics: DynamicsSide) -> bool:
    signed_in = dynamics.msal_cache if dynamics.auth_mode == "delegated" else dynamics.app_client_secret
    return bool(dynamics.org_url and signed_in)
