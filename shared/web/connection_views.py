"""What the connection pages show, as plain values for the templates: the two lights with the link that
fixes a red one, the defaults form's choices and current values, the day's activity, the trial."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.connections import lights as light_keys
from shared.connections.lights import Light, lights, trial_status
from shared.store.activity import DaySummary
from shared.store.models import Connection
from shared.store.plans import PLANS, plan_named
from shared.store.sync_settings import SyncSettings, TaxMode

PRODUCT = ("dynamics-xero", "Dynamics Xero Connector")
STATUS_TEXT = {
    "draft": "Draft — not syncing yet",
    "active": "Active — syncing invoices",
    "disconnected": "Disconnected — not syncing",
}


def status_text(status: str, lights: list[LightView]) -> str:
    """An active connection with a red light is not syncing, whatever its status says."""
    if status == "active" and not all(light.green for light in lights):
        return "Active — but not syncing until the red light below is fixed"
    return STATUS_TEXT[status]


# A short list people recognise; the connection's own zone is added when it is not among them.
TIME_ZONES = (
    "UTC", "Pacific/Auckland", "Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane",
    "Australia/Adelaide", "Australia/Perth", "Asia/Singapore", "Asia/Hong_Kong", "Asia/Kolkata",
    "Asia/Dubai", "Africa/Johannesburg", "Europe/London", "Europe/Dublin", "Europe/Paris",
    "Europe/Berlin", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Toronto", "America/Sao_Paulo",
)  # fmt: skip
INVOICE_STATUSES = (
    ("draft", "Draft"),
    ("submitted", "Awaiting approval (submitted)"),
    ("authorised", "Approved (authorised)"),
)
NUMBERING = (
    ("dynamics", "The Dynamics invoice number"),
    ("xero", "Xero's next number (the Dynamics number goes to Reference)"),
)
TAX_MODES = (("exclusive", "Tax exclusive"), ("inclusive", "Tax inclusive"), ("notax", "No tax"))
_TAX_MODE_KEYS = {TaxMode.EXCLUSIVE: "exclusive", TaxMode.INCLUSIVE: "inclusive", TaxMode.NO_TAX: "notax"}
REFERENCE_KINDS = (
    ("taxrates", "Sync tax rates", "tax rates"),
    ("accounts", "Sync account codes", "account codes"),
    ("brandingthemes", "Sync branding themes", "branding themes"),
)
_FIX_ANCHORS = {
    light_keys.CONNECT_XERO: "#xero",
    light_keys.RECONNECT_XERO: "#xero",
    light_keys.CONNECT_DYNAMICS: "#dynamics",
    light_keys.SIGN_IN_DYNAMICS: "#dynamics",
    light_keys.INSTALL_DYNAMICS: "#install",
    light_keys.ASK_ADMIN: "#install",
}


@dataclass(frozen=True)
class LightView:
    side: str
    green: bool
    label: str
    reason: str
    fix_label: str
    fix_href: str


def light_views(connection: Connection, now: datetime) -> list[LightView]:
    xero, dynamics = lights(connection, now)
    return [_light("Xero", xero, connection.id), _light("Dynamics 365", dynamics, connection.id)]


def _light(side: str, light: Light, connection_id: str) -> LightView:
    page = f"/connections/{connection_id}"
    if light.action == light_keys.APP_CREDENTIALS_DYNAMICS:
        href = f"{page}/dynamics/app"
    else:
        href = page + _FIX_ANCHORS.get(light.action, "") if light.action else ""
    return LightView(side, light.green, light.label, light.reason, light.action_label, href)


def plan_choices() -> list[tuple[str, str]]:
    def label(name: str) -> str:
        plan = PLANS[name]
        if plan.is_trial:
            return f"{plan.label} — free, up to {plan.invoices_per_month:,} invoices a month"
        price = f"{plan.currency} {plan.monthly_price_cents / 100:.2f}"
        return f"{plan.label} — {price} a month, up to {plan.invoices_per_month:,} invoices"

    return [(name, label(name)) for name in PLANS]


def plan_label(name: str) -> str:
    plan = plan_named(name or "")
    return plan.label if plan else "No plan chosen"


def time_zone_choices(current: str) -> list[str]:
    return list(TIME_ZONES) if current in TIME_ZONES or not current else [current, *TIME_ZONES]


def defaults_values(plan: str, sync: SyncSettings, posted: Mapping[str, str] | None = None) -> dict[str, str]:
    """The defaults form's values as strings: the stored ones, or what was just posted (to show errors)."""
    values = {
        "plan": plan,
        "time_zone": sync.time_zone,
        "invoice_status": sync.invoice_status.value.lower(),
        "numbering": sync.numbering.value,
        "tax_mode": _TAX_MODE_KEYS[sync.tax_mode],
        "default_account_code": sync.default_account_code,
        "default_tax_type": sync.default_tax_type,
        "branding_theme_id": sync.branding_theme_id,
        "default_due_days": str(sync.default_due_days),
        "create_missing_contacts": _flag(sync.create_missing_contacts),
        "create_missing_items": _flag(sync.create_missing_items),
        "require_send_flag": _flag(sync.require_send_flag),
        "close_paid_invoices": _flag(sync.close_paid_invoices),
    }
    if posted:
        values.update({name: str(posted[name]) for name in values if name in posted})
    return values


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class ActivityView:
    pushed: int
    failed: int
    skipped: int
    errors: list[dict[str, str]]
    warnings: int = 0


def activity_view(summary: DaySummary, time_zone: str) -> ActivityView:
    zone = _zone(time_zone)
    errors = [
        {
            "number": error.invoice_number or "(no number yet)",
            "message": error.message or "No reason was recorded.",
            "when": f"{error.at.astimezone(zone):%H:%M} ({zone.key})",
        }
        for error in summary.last_errors
    ]
    return ActivityView(summary.pushed, summary.failed, summary.skipped, errors, summary.warnings)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def trial_text(connection: Connection, now: datetime) -> str:
    status = trial_status(connection, now)
    if status.ends_at is None:
        return ""
    return f"{status.banner} Trial end date: {status.ends_at:%d %B %Y}."


def when_text(moment: datetime | None, time_zone: str) -> str:
    if moment is None:
        return ""
    zone = _zone(time_zone)
    return f"{moment.astimezone(zone):%d %B %Y, %H:%M} ({zone.key})"


def privilege_texts(names: list[str]) -> list[str]:
    """ "Write Invoice — needed to …" for each missing privilege the connection remembers by name."""
    from shared.dataverse.privileges import INSTALL, RUNTIME

    why = {needed.name: needed.what_for for needed in (*INSTALL, *RUNTIME)}
    return [f"{name} — {why[name]}" if name in why else name for name in names]


_COUNTED = {
    "taxrates": ("tax rate", "tax rates"),
    "accounts": ("account code", "account codes"),
    "brandingthemes": ("branding theme", "branding themes"),
    "trackingcategories": ("tracking category", "tracking categories"),
    "currencies": ("currency", "currencies"),
}


def reference_counts(counts: Mapping[str, int]) -> list[str]:
    def words(kind: str, count: int) -> str:
        one, many = _COUNTED.get(kind, (kind, kind))
        return one if count == 1 else many

    return [f"{count} {words(kind, count)}" for kind, count in counts.items()]


Pairs = list[tuple[str, str]]
_LIST_FIELDS = (
    ("default_account_code", "accounts", "Choose an account"),
    ("default_tax_type", "tax_types", "Xero's default for the account"),
    ("branding_theme_id", "branding_themes", "Xero's default theme"),
)


def list_choices(lists: Any, values: Mapping[str, str]) -> dict[str, Pairs | None]:
    """Select options per list field of the defaults form; None where the list is not in Dynamics yet
    (the form shows a text field then). A stored value no longer in the list stays selectable."""
    choices: dict[str, Pairs | None] = {}
    for name, attribute, blank in _LIST_FIELDS:
        options = getattr(lists, attribute)
        if options is None:
            choices[name] = None
            continue
        pairs: Pairs = [("", blank), *((o.value, o.label) for o in options)]
        value = values.get(name, "")
        if value not in {v for v, _ in pairs}:
            pairs.insert(1, (value, f"{value} (current value)"))
        choices[name] = pairs
    return choices
