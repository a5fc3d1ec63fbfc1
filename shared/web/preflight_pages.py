"""The connection page's pre-flight check: "Check connection" runs it (reads only) and keeps the findings
on the connection; the page shows them with what to do, and an amber light while they stand. Trigger:
functions/portal_activity.py."""

from __future__ import annotations

from dataclasses import dataclass

import azure.functions as func

from shared.connections.connections import get_for_account
from shared.connections.lights import is_dynamics_connected, is_xero_connected
from shared.errors import ConnectorError, NotFoundError, RetriableError
from shared.reference.preflight import Finding, run_and_keep, standing
from shared.store.models import Account, Connection
from shared.web.pages import Page

PLACE = "preflight"


@dataclass(frozen=True)
class FindingView:
    text: str
    fix: str
    href: str
    link_text: str


def finding_views(connection: Connection) -> list[FindingView]:
    page = f"/connections/{connection.id}"
    return [_view(f, page) for f in standing(connection)]


def _view(finding: Finding, page: str) -> FindingView:
    href = page + finding.link if finding.link.startswith("#") else finding.link
    return FindingView(finding.text, finding.fix, href, finding.link_text)


def can_check(connection: Connection) -> bool:
    return is_xero_connected(connection.xero) and is_dynamics_connected(connection.dynamics)


def check_now(page: Page, account: Account, connection: Connection) -> int | None:
    """Run the check for a connection of this account; how many findings, None when it could not run."""
    try:
        found = run_and_keep(
            page.parts.connections,
            connection,
            page.parts.xero_for(connection),
            page.parts.dataverse_for(connection),
            page.parts.xero_for(connection).web_url,
            page.now,
        )
    except NotFoundError:
        raise
    except (RetriableError, ConnectorError):
        return None
    return len(found)


def check_form(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    connection = get_for_account(page.parts.connections, account.id, connection_id)
    back = f"/connections/{connection.id}#preflight"
    if not can_check(connection):
        page.flash("Connect to Xero and to Dynamics first: the check reads both.", error=True, place=PLACE)
        return page.redirect(back)
    count = check_now(page, account, connection)
    if count is None:
        page.flash(
            "The check could not run now: Xero or Dynamics did not answer. Try again in a minute.",
            error=True,
            place=PLACE,
        )
    elif count:
        page.flash(
            f"Checked: {count} thing{'s' if count != 1 else ''} would make invoices fail or differ (below).",
            place=PLACE,
        )
    else:
        page.flash("Checked: nothing found that would make invoices fail or differ.", place=PLACE)
    return page.redirect(back)
