"""What the connection page says about the last Install into Dynamics run (shared/connections/
install_job.py): steps done of the total, the step in words, a failure with its fix. While a run goes on
the page refreshes itself (a meta refresh: no script needed) and offers a plain "Refresh" link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.connections.install_job import STALE_AFTER, is_active
from shared.store.models import InstallProgress

REFRESH_SECONDS = 3
JUST_ENDED = timedelta(minutes=2)  # a run that ended this recently is still shown open on the page


@dataclass(frozen=True)
class InstallView:
    state: str  # "", "running", "done", "failed", "stopped"
    steps_done: int = 0
    steps_total: int = 0
    text: str = ""
    refresh_seconds: int = 0  # 0: the page does not refresh itself
    keep_open: bool = False  # the page's Install step stays open to show it


def install_view(progress: InstallProgress, now: datetime) -> InstallView:
    done, total = progress.steps_done, progress.steps_total
    if is_active(progress, now):
        step = progress.step.rstrip(".")
        queued = " (waiting for its turn)" if progress.state == "queued" else ""
        text = f"Installing into Dynamics: {done} of {total} steps done. Now: {step}{queued}."
        return InstallView("running", done, total, text, REFRESH_SECONDS, keep_open=True)
    if progress.state in ("queued", "running", "waiting"):
        minutes = int(STALE_AFTER.total_seconds() // 60)
        text = (
            f"Install into Dynamics stopped at step {done + 1} of {total} ({progress.step.rstrip('.')}) and "
            f"has not moved for {minutes} minutes — fix: choose Install into Dynamics again (what is "
            "already in place stays as it is)."
        )
        return InstallView("stopped", done, total, text, keep_open=True)
    if progress.state == "failed":
        text = (
            f"Install into Dynamics stopped at step {done + 1} of {total} "
            f"({progress.step.rstrip('.')}): {progress.error}."
        )
        return InstallView("failed", done, total, text, keep_open=True)
    if progress.state == "done":
        changes = progress.changes
        text = (
            f"Installed into Dynamics: {changes} change{'s' if changes != 1 else ''}."
            if changes
            else "Installed into Dynamics: everything was already in place, nothing changed."
        )
        ended = progress.updated_at is not None and now - progress.updated_at < JUST_ENDED
        return InstallView("done", done, total, text, keep_open=ended)
    return InstallView("")
