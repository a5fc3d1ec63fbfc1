"""The connection page: both lights, then the steps of setting up (connection_steps.py: Xero, Dynamics,
Install, Defaults with the reference-data buttons, Start with the plan), then today's activity.
Rendered from stored facts plus two reads: the day's activity (Azure Tables) and, once Dynamics is
green, the synced Xero lists for the defaults form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import azure.functions as func

from shared.connections.connections import get_for_account
from shared.connections.lights import is_dynamics_connected, is_xero_connected
from shared.errors import ConnectorError
from shared.store.backfills import Backfill
from shared.store.models import Account, Connection
from shared.web import connection_views as views
from shared.web import preflight_pages as preflight
from shared.web.backfill_pages import backfill_view
from shared.web.billing_actions import plan_facts, usage_banner
from shared.web.connect_flows import allow_sign_in_redirects
from shared.web.connection_actions import XeroLists, is_complete, live_xero_lists, merged, read_xero_lists
from shared.web.connection_steps import step_views
from shared.web.install_progress import install_view
from shared.web.pages import Note, Page
from shared.web.parts import PortalParts
from shared.xero.accounting import sandbox_pages_url

# The page's sections, in order: a note after a form is shown in the section of that form.
SECTIONS = (
    "preflight", "xero", "dynamics", "install", "reference", "defaults", "subscription", "start", "activity",
    "backfill", "delete",
)  # fmt: skip


def show_connection(
    page: Page,
    account: Account,
    connection_id: str,
    status: int = 200,
    posted: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    backfill: dict[str, str] | None = None,
    estimate: str = "",
) -> func.HttpResponse:
    """NotFoundError for another account's connection (the caller's guard renders 404)."""
    connection = get_for_account(page.parts.connections, account.id, connection_id)
    lights = views.light_views(connection, page.now)
    install = install_view(connection.install, page.now)
    # While an install runs the page reloads itself every few seconds: no live reads of Xero's lists then,
    # which would spend the organisation's per-minute call limit on a form nobody is filling in.
    lists = XeroLists() if install.refresh_seconds else xero_lists_for(connection, page.parts)
    zone = connection.sync.time_zone
    defaults = views.defaults_values(connection.plan, connection.sync, posted)
    plan, trial = plan_facts(
        account,
        views.plan_label(connection.plan),
        views.trial_text(connection, page.now),
        page.now,
        page.parts.enforcer is not None,
    )
    steps = step_views(
        connection,
        [light.green for light in lights],
        {Note.decoded(raw).place: True for raw in page.session.flash} | {"install": install.keep_open},
        errors or {},
    )
    response = page.render(
        "connection.html",
        status,
        places=SECTIONS,
        title=connection.name or "Connection",
        connection=connection,
        status_text=views.status_text(connection.status, lights),
        plan=plan,
        trial=trial,
        lights=lights,
        steps=steps,
        steps_done=sum(step.state == "done" for step in steps),
        current_step=next((step for step in steps if step.state == "current"), None),
        xero_connected=is_xero_connected(connection.xero),
        xero_pages=sandbox_pages_url(page.settings.xero_api_url, connection.xero.tenant_id),
        dynamics_connected=is_dynamics_connected(connection.dynamics),
        privileges=views.privilege_texts(connection.dynamics.privileges_missing),
        install=install,
        refresh_to=refresh_to(connection.id, install.refresh_seconds, page.now),
        active=connection.status == "active",
        can_sync=all(light.green for light in lights),
        defaults=defaults,
        errors=dict(errors or {}),
        selects=views.list_choices(lists, defaults),
        choices={
            "plans": views.plan_choices(),
            "time_zones": [(name, name) for name in views.time_zone_choices(defaults["time_zone"])],
            "invoice_statuses": views.INVOICE_STATUSES,
            "numbering": views.NUMBERING,
            "tax_modes": views.TAX_MODES,
        },
        reference_kinds=views.REFERENCE_KINDS,
        reference_when=views.when_text(connection.reference.last_refresh_at, zone),
        reference_counts=views.reference_counts(connection.reference.counts),
        findings=preflight.finding_views(connection),
        can_check=preflight.can_check(connection),
        preflight_when=views.when_text(connection.preflight.checked_at, zone),
        activity=views.activity_view(page.parts.activity.summary(connection.id), zone),
        usage_banner=usage_banner(account, connection, page.now, page.parts.enforcer),
        backfill=backfill_view(_backfill_of(connection, page.parts), page.now.date(), backfill, estimate),
    )
    return allow_sign_in_redirects(response, page.settings)


def _backfill_of(connection: Connection, parts: PortalParts) -> Backfill | None:
    return parts.backfills.get(connection.id) if parts.backfills is not None else None


def refresh_to(connection_id: str, seconds: int, now: datetime) -> str:
    """The meta refresh's content while an install runs: this page again, scrolled to Install. The URL
    changes with each render: a refresh to the very URL shown, fragment and all, is only a jump to the
    fragment in Chromium, not a reload."""
    if not seconds:
        return ""
    return f"{seconds}; url=/connections/{connection_id}?shown={int(now.timestamp())}#install"


def xero_lists_for(connection: Connection, parts: PortalParts) -> XeroLists:
    """Xero's lists for the defaults: as synced into Dynamics, else (not synced yet) read live from Xero;
    None per list that neither side can give (the form falls back to text)."""
    from shared.connections.lights import dynamics_light, xero_light

    synced = XeroLists()
    if dynamics_light(connection.dynamics).green:
        try:
            synced = read_xero_lists(parts.dataverse_for(connection))
        except ConnectorError:  # signed out meanwhile: the light says so
            synced = XeroLists()
    if is_complete(synced) or not xero_light(connection.xero).green:
        return synced
    try:
        return merged(synced, live_xero_lists(parts.xero_for(connection)))
    except ConnectorError:
        return synced
