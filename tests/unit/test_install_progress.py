"""What the connection page says about an install run, from the stored progress alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.connections.install_job import STALE_AFTER, is_active
from shared.store.models import InstallProgress
from shared.web.install_progress import install_view

NOW = datetime(2026, 12, 8, 4, 0, tzinfo=UTC)


def _run(state: str, ago: timedelta, **fields: object) -> InstallProgress:
    base = {"run_id": "r1", "steps_done": 3, "steps_total": 12, "step": "Creating the table Xero accounts"}
    return InstallProgress(state=state, updated_at=NOW - ago, **{**base, **fields})  # type: ignore[arg-type]


def test_a_run_heard_of_lately_shows_its_step_and_refreshes_the_page() -> None:
    view = install_view(_run("waiting", timedelta(seconds=20)), NOW)
    assert view.state == "running" and view.refresh_seconds > 0 and view.keep_open
    assert view.text == (
        "Installing into Dynamics: 3 of 12 steps done. Now: Creating the table Xero accounts."
    )


def test_a_run_silent_for_too_long_is_shown_stopped_and_a_new_click_may_start_one() -> None:
    silent = _run("running", STALE_AFTER + timedelta(seconds=1))
    assert not is_active(silent, NOW)  # start_install lets a new run begin
    view = install_view(silent, NOW)
    assert view.state == "stopped" and view.refresh_seconds == 0
    assert "stopped at step 4 of 12" in view.text and "fix: choose Install into Dynamics again" in view.text


def test_a_failed_run_names_the_step_and_its_fix() -> None:
    failed = _run("failed", timedelta(minutes=1), error="privileges are missing — fix: ask your admin")
    view = install_view(failed, NOW)
    assert view.state == "failed" and view.refresh_seconds == 0
    assert view.text.startswith("Install into Dynamics stopped at step 4 of 12 (Creating the table")
    assert view.text.endswith("privileges are missing — fix: ask your admin.")


def test_a_finished_run_says_how_many_changes_and_stays_open_only_a_while() -> None:
    assert install_view(_run("done", timedelta(seconds=5), changes=1), NOW).text == (
        "Installed into Dynamics: 1 change."
    )
    assert install_view(_run("done", timedelta(seconds=5)), NOW).keep_open
    assert not install_view(_run("done", timedelta(hours=1)), NOW).keep_open
