"""The connection page's Backfill section and its three forms: Estimate (how many invoices, how many Xero
calls, how long under Xero's limits), Start and Stop. Every form is the signed-in account's own
connection only (another's is "not found", like every connection form) and carries the CSRF token
(checked by shared/web/pages.py before any handler runs). Triggers: functions/portal_connections.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import azure.functions as func

from shared.backfill import control
from shared.backfill.query import OPEN_STATUS_REASONS
from shared.connections.connections import get_for_account
from shared.store.backfills import Backfill
from shared.store.models import Account, Connection
from shared.web.pages import Page

Send = Callable[[str, int], Any]
STATUS_WORDS = {
    "running": "Running",
    "stopped": "Stopped",
    "done": "Finished",
    "failed": "Stopped by a problem",
}


@dataclass(frozen=True)
class BackfillView:
    form: dict[str, str]
    reasons: list[tuple[str, str, bool]]  # (field name, label, ticked)
    estimate: str  # the estimate's sentence, "" before one was asked for
    job: Backfill | None
    status: str
    percent: int


def backfill_view(
    job: Backfill | None, today: date, posted: dict[str, str] | None = None, estimate: str = ""
) -> BackfillView:
    start, end = control.default_range(today)
    form = {control.FIELD_FROM: start.isoformat(), control.FIELD_TO: end.isoformat()}
    chosen = {f"{control.FIELD_STATUS}{code}" for code, _ in OPEN_STATUS_REASONS}
    if posted:
        form.update({k: v for k, v in posted.items() if k in (control.FIELD_FROM, control.FIELD_TO)})
        chosen = {k for k in chosen if posted.get(k) in ("true", "on")}
    reasons = [
        (f"{control.FIELD_STATUS}{code}", label, f"{control.FIELD_STATUS}{code}" in chosen)
        for code, label in OPEN_STATUS_REASONS
    ]
    percent = min(100, (job.done * 100) // job.total) if job and job.total else (100 if job else 0)
    status = STATUS_WORDS[job.status] if job else ""
    return BackfillView(form, reasons, estimate, job, status, percent)


def estimate_words(found: control.Estimate) -> str:
    minutes = found.minutes
    if minutes < 90:
        duration = f"about {max(1, round(minutes))} minute{'s' if round(minutes) > 1 else ''}"
    elif minutes < 48 * 60:
        duration = f"about {round(minutes / 60)} hours"
    else:
        duration = f"about {round(minutes / 60 / 24)} days"
    return (
        f"{found.invoices} invoices in this range, {found.in_xero} of them in Xero already: "
        f"{found.to_send} to send, {found.new_customers} customers new to Xero, about {found.xero_calls} "
        f"Xero calls — {duration} within Xero's limits of 60 calls a minute and 5,000 a day, "
        "leaving room for invoices saved meanwhile."
    )


def estimate_form(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.web.connection_page import show_connection

    chosen = _chosen(page, account, connection_id)
    if isinstance(chosen, func.HttpResponse):
        return chosen
    _, _, found = chosen
    return show_connection(page, account, connection_id, backfill=page.form, estimate=estimate_words(found))


def start_form(page: Page, account: Account, connection_id: str, send: Send) -> func.HttpResponse:
    chosen = _chosen(page, account, connection_id)
    if isinstance(chosen, func.HttpResponse):
        return chosen
    connection, selection, found = chosen
    try:
        control.start(_jobs(page), connection, selection, found.invoices, send, page.now)
    except control.Refused as refused:
        page.flash(str(refused), error=True, place="backfill")
        return page.redirect(f"/connections/{connection_id}#backfill")
    page.flash(f"Backfill started: {estimate_words(found)}", place="backfill")
    return page.redirect(f"/connections/{connection_id}#backfill")


def _chosen(
    page: Page, account: Account, connection_id: str
) -> tuple[Connection, control.Selection, control.Estimate] | func.HttpResponse:
    """The account's connection, the form's selection and its estimate (what Estimate and Start both
    need); a form that cannot be read comes back as the page again with its errors (400)."""
    from shared.web.connection_page import show_connection

    connection = get_for_account(page.parts.connections, account.id, connection_id)
    try:
        selection = control.selection_from_form(page.form, connection)
    except control.Refused as refused:
        return show_connection(
            page, account, connection_id, 400, errors=refused.field_errors, backfill=page.form
        )
    return connection, selection, control.estimate(page.parts.dataverse_for(connection), selection)


def stop_form(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    get_for_account(page.parts.connections, account.id, connection_id)
    stopped = control.stop(_jobs(page), connection_id, page.now)
    running = stopped is not None and stopped.status == "stopped"
    page.flash(
        "Backfill stopped: the page under way finishes, nothing more is sent."
        if running
        else "No backfill is running.",
        place="backfill",
    )
    return page.redirect(f"/connections/{connection_id}#backfill")


def _jobs(page: Page) -> Any:
    if page.parts.backfills is None:
        raise RuntimeError("the portal was built without the backfill store")
    return page.parts.backfills
