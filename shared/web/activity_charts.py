"""The Activity page's "at a glance": two small charts drawn on the server as SVG (no script) and Xero's
usage. The geometry is computed here; templates/activity/glance.html draws it. Readable without colour:
each outcome has its own fill pattern and a word in the legend, the two latency lines differ in dash and
marker and are labelled at their end, and every figure is also in a table under the charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.store.activity import ActivityLog, InvoiceActivity
from shared.store.activity_days import CHART_DAYS, KINDS, DayFigures, Glance, XeroLeft, glance

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 44, 12, 36
MINUTE_LIMIT, DAY_LIMIT = 60, 5000  # Xero's per organisation (developer.xero.com, "API rate limits")
KIND_WORDS = {
    "sent": "Sent (new)", "updated": "Updated", "unchanged": "Unchanged", "skipped": "Skipped",
    "failed": "Failed", "waiting": "Waiting",
}  # fmt: skip


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    kind: str
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Line:
    name: str  # "p50" / "p95"
    runs: list[str]  # SVG points of each unbroken run (a day without data breaks the line)
    marks: list[tuple[float, float, str]]  # x, y, title
    label_at: tuple[float, float] | None


@dataclass(frozen=True)
class Chart:
    bars: list[Rect]
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    empty: bool


@dataclass(frozen=True)
class Usage:
    minute_used: int
    day_used: int
    at: str
    minute_old: bool  # the minute Xero counted is over: what this minute holds is not known


@dataclass(frozen=True)
class GlanceView:
    outcomes: Chart
    latency: Chart
    days: list[DayFigures]
    usage: Usage | None
    kinds: list[tuple[str, str]]


def charts_for(
    log: ActivityLog, connection_id: str, now: datetime, today_rows: list[InvoiceActivity] | None = None
) -> GlanceView:
    return glance_view(glance(log, connection_id, now, today_rows=today_rows), now)


def glance_view(figures: Glance, now: datetime) -> GlanceView:
    return GlanceView(
        outcome_chart(figures.days),
        latency_chart(figures.days),
        figures.days,
        usage_of(figures.xero, now),
        [(kind, KIND_WORDS[kind]) for kind in KINDS],
    )


def _slot() -> float:
    return (WIDTH - LEFT - RIGHT) / CHART_DAYS


def _x_ticks(days: list[DayFigures]) -> list[Tick]:
    slot = _slot()
    last = len(days) - 1
    return [
        Tick(LEFT + (n + 0.5) * slot, f"{figures.day:%d %b}")
        for n, figures in enumerate(days)
        if (last - n) % 7 == 0
    ]


def _nice(top: float) -> float:
    """A round axis maximum at or above `top` (1, 2, 5 × a power of ten)."""
    if top <= 0:
        return 1
    power = 10 ** (len(str(int(top))) - 1)
    for step in (1, 2, 5, 10):
        if top <= step * power:
            return float(step * power)
    return float(10 * power)


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)


def outcome_chart(days: list[DayFigures]) -> Chart:
    top = _nice(max((d.total for d in days), default=0))
    slot, bars = _slot(), []
    for n, figures in enumerate(days):
        base = 0
        for kind in KINDS:
            count = figures.counts.get(kind, 0)
            if not count:
                continue
            y_top, y_base = _y(base + count, top), _y(base, top)
            title = f"{figures.day:%d %b}: {count} {KIND_WORDS[kind].lower()}"
            bars.append(Rect(LEFT + n * slot + slot * 0.15, y_top, slot * 0.7, y_base - y_top, kind, title))
            base += count
    ticks = [Tick(_y(v, top), f"{v:g}") for v in (0, top / 2, top)]
    return Chart(bars, [], ticks, _x_ticks(days), empty=not any(d.total for d in days))


def latency_chart(days: list[DayFigures]) -> Chart:
    values = [v for d in days for v in (d.p50_ms, d.p95_ms) if v >= 0]
    top = _nice(max(values, default=0) / 1000)
    slot, lines = _slot(), []
    for name in ("p50", "p95"):
        runs: list[list[tuple[float, float]]] = [[]]
        marks = []
        for n, figures in enumerate(days):
            value = figures.p50_ms if name == "p50" else figures.p95_ms
            if value < 0:
                if runs[-1]:
                    runs.append([])  # a gap: the line stops and starts again after it
                continue
            point = (LEFT + (n + 0.5) * slot, _y(value / 1000, top))
            runs[-1].append(point)
            marks.append((*point, f"{figures.day:%d %b}: {name} {value / 1000:.1f} s"))
        drawn = [" ".join(f"{x:.1f},{y:.1f}" for x, y in run) for run in runs if run]
        label = (marks[-1][0] + 8, marks[-1][1] + 4) if marks else None
        lines.append(Line(name, drawn, marks, label))
    p50, p95 = lines
    if p50.label_at and p95.label_at and abs(p50.label_at[1] - p95.label_at[1]) < 12:
        # labels that would print over each other: p95 above, p50 below
        middle = (p50.label_at[1] + p95.label_at[1]) / 2
        lines = [
            Line(p50.name, p50.runs, p50.marks, (p50.label_at[0], middle + 8)),
            Line(p95.name, p95.runs, p95.marks, (p95.label_at[0], middle - 4)),
        ]
    ticks = [Tick(_y(v, top), f"{v:g} s") for v in (0, top / 2, top)]
    return Chart([], lines, ticks, _x_ticks(days), empty=not values)


def usage_of(left: XeroLeft | None, now: datetime) -> Usage | None:
    if left is None:
        return None
    return Usage(
        minute_used=max(0, MINUTE_LIMIT - left.minute_left),
        day_used=max(0, DAY_LIMIT - left.day_left),
        at=f"{left.at:%H:%M:%S} UTC",
        minute_old=(now - left.at).total_seconds() > 60,
    )
