"""The connection page's steps (issue 19.4): which is done, which is current and open, from stored facts."""

from __future__ import annotations

from dataclasses import replace

from shared.store.models import Connection, DynamicsSide, Problem
from shared.web.connection_steps import step_views


def _states(connection: Connection, lights: tuple[bool, bool], notes=None, errors=None) -> list[str]:  # type: ignore[no-untyped-def]
    views = step_views(connection, lights, notes or {}, errors or {})
    return [f"{v.key}:{v.state}{'+open' if v.open else ''}" for v in views]


def _dynamics(**fields: object) -> DynamicsSide:
    side = DynamicsSide(org_url="https://contoso.crm.dynamics.com", msal_cache="{}")
    for name, value in fields.items():
        setattr(side, name, value)
    return side


def test_a_new_connection_opens_only_the_xero_step() -> None:
    assert _states(Connection(id="c", account_id="a"), (False, False)) == [
        "xero:current+open", "dynamics:todo", "install:todo", "defaults:todo", "start:todo",
    ]  # fmt: skip


def test_each_step_done_moves_the_open_step_on() -> None:
    connection = Connection(id="c", account_id="a", dynamics=_dynamics())
    assert _states(connection, (True, False))[:3] == ["xero:done", "dynamics:done", "install:current+open"]
    connection.dynamics.webhook_registered = True
    assert _states(connection, (True, True))[2:] == ["install:done", "defaults:current+open", "start:todo"]
    connection.sync = replace(connection.sync, time_zone_chosen=True)
    assert _states(connection, (True, True))[3:] == ["defaults:done", "start:current+open"]
    connection.status = "active"
    assert not any(state.endswith("+open") for state in _states(connection, (True, True)))


def test_a_red_light_on_a_running_connection_reopens_its_step() -> None:
    connection = Connection(
        id="c", account_id="a", status="active", dynamics=_dynamics(webhook_registered=True)
    )
    connection.sync = replace(connection.sync, time_zone_chosen=True)
    connection.dynamics.error = Problem("Sign-in expired", "sign_in_dynamics")
    assert _states(connection, (True, False))[:3] == ["xero:done", "dynamics:current+open", "install:todo"]


def test_a_note_or_a_form_error_opens_the_step_it_belongs_to() -> None:
    fresh = Connection(id="c", account_id="a")
    assert "start:todo+open" in _states(fresh, (False, False), notes={"start": True})
    assert "defaults:todo+open" in _states(fresh, (False, False), notes={"reference": True})
    assert "start:todo+open" in _states(fresh, (False, False), errors={"plan": "Choose a plan."})
    assert "defaults:todo+open" in _states(fresh, (False, False), errors={"time_zone": "?"})
    assert "start:todo" in _states(fresh, (False, False), notes={"start": False})
