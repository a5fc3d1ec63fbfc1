"""The Activity page of a connection: its invoices newest first with filters, paging and a CSV export,
and Retry for one failed invoice (its event back on the invoice queue: ids only, as the webhook's).
Another account's connection is a 404 everywhere here (get_for_account). Triggers:
functions/portal_activity.py."""

from __future__ import annotations

import azure.functions as func

from shared.connections.connections import get_for_account
from shared.store.activity import RETENTION_DAYS
from shared.store.models import Account
from shared.web import activity_views as views
from shared.web.connection_actions import Send
from shared.web.pages import Page
from shared.xero.accounting import web_url_for

PLACE = "activity-list"


def activity_page(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.web import activity_charts as charts

    connection = get_for_account(page.parts.connections, account.id, connection_id)
    log = page.parts.activity
    chosen, errors = views.read_filter(page.query, page.now.date(), log.oldest_kept())
    today = page.now.date()
    today_rows = log.rows(connection.id, today, today)  # read once: the charts and the list's first day
    found = log.page(
        connection.id,
        chosen.first,
        chosen.last,
        chosen.outcomes,
        offset=(chosen.page - 1) * views.PAGE_SIZE,
        limit=views.PAGE_SIZE,
        read={today: today_rows},
    )
    xero_web = web_url_for(page.settings.xero_api_url)
    zone = connection.sync.time_zone
    rows = [views.row_view(row, zone, xero_web, connection.dynamics.org_url) for row in found.rows]
    return page.render(
        "activity.html",
        400 if errors else 200,
        places=(PLACE,),
        title=f"Activity · {connection.name}",
        connection=connection,
        rows=rows,
        chosen=chosen,
        errors=errors,
        outcomes=[(key, words) for key, (words, _) in views.OUTCOMES.items()],
        zone=views.zone_of(zone).key,
        newer=chosen.query(page=chosen.page - 1) if chosen.page > 1 else "",
        older=chosen.query(page=chosen.page + 1) if found.has_more else "",
        csv_query=chosen.query(page=""),
        oldest=log.oldest_kept(),
        retention_days=RETENTION_DAYS,
        glance=charts.charts_for(log, connection.id, page.now, today_rows),
        width=charts.WIDTH,
        height=charts.HEIGHT,
        left=charts.LEFT,
        right=charts.RIGHT,
        bottom=charts.BOTTOM,
    )


def activity_csv(page: Page, account: Account, connection_id: str) -> func.HttpResponse:
    from shared.web.responses import download

    connection = get_for_account(page.parts.connections, account.id, connection_id)
    log = page.parts.activity
    chosen, _ = views.read_filter(page.query, page.now.date(), log.oldest_kept())
    rows = log.each(connection.id, chosen.first, chosen.last, chosen.outcomes)
    name = f"activity-{chosen.first}-to-{chosen.last}.csv"
    return download(views.csv_bytes(rows), name, "text/csv")


def retry_one(page: Page, account: Account, connection_id: str, send: Send) -> func.HttpResponse:
    """Retry one invoice of this connection's activity: the posted "day|invoice id" must name a row the
    activity holds (so nothing else can be queued through this form), then its event is queued."""
    from shared.sync.events import InvoiceEvent

    connection = get_for_account(page.parts.connections, account.id, connection_id)
    chosen, _ = views.read_filter(page.form, page.now.date(), page.parts.activity.oldest_kept())
    back = f"/connections/{connection.id}/activity?{chosen.query()}#activity-list"
    named = views.parse_row_key(page.field("row"))
    found = page.parts.activity.one(connection.id, *named) if named else None
    if found is None:
        page.flash("That invoice is not in this connection's activity.", error=True, place=PLACE)
        return page.redirect(back)
    event = InvoiceEvent(
        connection.id, found.invoice_id, received_at=page.now.isoformat(), received_by="portal"
    )
    send(event.to_json())
    number = found.invoice_number or found.invoice_id
    page.flash(f"Retry queued for invoice {number}: it shows here again once it is done.", place=PLACE)
    return page.redirect(back)
