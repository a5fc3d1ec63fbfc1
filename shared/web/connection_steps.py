"""The connection page in five steps — Xero, Dynamics, Install, Defaults, Start — each done, current or
still to do, from the stored facts alone. The current step is open; so is a step showing a note or an
error of its own form (after a post the page lands there). Each step holds the page's sections (their ids
are the places notes go to, and what the lights' fix links point at)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from shared.connections.lights import is_dynamics_connected
from shared.store.models import Connection

State = Literal["done", "current", "todo"]
STATE_WORDS = {"done": "Done", "current": "Do this now", "todo": "Later"}


@dataclass(frozen=True)
class StepDef:
    key: str
    title: str
    sections: tuple[str, ...]  # partial templates under connection/, and their section ids
    fields: tuple[str, ...] = ()  # form fields whose errors open the step


STEPS: tuple[StepDef, ...] = (
    StepDef("xero", "Connect to Xero", ("xero",)),
    StepDef("dynamics", "Connect to Dynamics 365", ("dynamics",)),
    StepDef("install", "Install into Dynamics", ("install",)),
    StepDef(
        "defaults",
        "Xero's lists and the defaults",
        ("reference", "defaults"),
        fields=(
            "time_zone",
            "invoice_status",
            "numbering",
            "tax_mode",
            "default_account_code",
            "default_tax_type",
            "branding_theme_id",
            "default_due_days",
            "create_missing_contacts",
            "create_missing_items",
            "require_send_flag",
            "close_paid_invoices",
        ),  # fmt: skip
    ),
    StepDef("start", "Plan and start", ("subscription", "start"), fields=("plan",)),
)


@dataclass(frozen=True)
class StepView:
    key: str
    number: int
    title: str
    state: State
    open: bool
    sections: tuple[str, ...]

    @property
    def state_words(self) -> str:
        return STATE_WORDS[self.state]


def done_steps(connection: Connection, lights_green: Sequence[bool]) -> dict[str, bool]:
    """Which steps are done. Install needs the Dynamics light green (it checks privileges and the
    webhook); the defaults count as done once saved (install may have proposed the time zone)."""
    xero_green, dynamics_green = lights_green
    return {
        "xero": xero_green,
        "dynamics": is_dynamics_connected(connection.dynamics) and not connection.dynamics.error.reason,
        "install": dynamics_green and connection.dynamics.webhook_registered,
        "defaults": connection.sync.time_zone_chosen,
        "start": connection.status == "active",
    }


def step_views(
    connection: Connection,
    lights_green: Sequence[bool],
    noted_places: Mapping[str, object],
    errors: Mapping[str, str],
) -> list[StepView]:
    """`noted_places`: section id -> its notes (a truthy value opens the section's step)."""
    done = done_steps(connection, lights_green)
    current = next((step.key for step in STEPS if not done[step.key]), "")
    views = []
    for number, step in enumerate(STEPS, start=1):
        state: State = "done" if done[step.key] else "current" if step.key == current else "todo"
        noted = any(noted_places.get(section) for section in step.sections)
        erred = any(name in errors for name in step.fields)
        views.append(
            StepView(step.key, number, step.title, state, state == "current" or noted or erred, step.sections)
        )
    return views
