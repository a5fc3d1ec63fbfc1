"""The Activity page's charts (issue 19.2): geometry from each day's figures and the SVG the page gets,
with no data, with gaps, and readable without colour (patterns, dashes, words)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from shared.store.activity import InvoiceActivity
from shared.store.activity_days import CHART_DAYS, DayFigures, Glance, XeroLeft, figures_of, percentile
from shared.web import activity_charts as charts
from shared.web.templating import render

TODAY = date(2026, 12, 8)
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


def _days(figures: dict[int, DayFigures] | None = None) -> list[DayFigures]:
    """30 days, oldest first; `figures` by how many days ago."""
    found = figures or {}
    return [
        found.get(back, DayFigures(TODAY - timedelta(days=back))) for back in range(CHART_DAYS - 1, -1, -1)
    ]


def _svg(view: charts.GlanceView) -> str:
    context = {"glance": view, "width": charts.WIDTH, "height": charts.HEIGHT, "left": charts.LEFT}
    return render("activity/glance.html", **context, right=charts.RIGHT, bottom=charts.BOTTOM)


def test_no_data_draws_empty_charts_that_say_so() -> None:
    view = charts.glance_view(Glance(_days(), None), NOW)
    assert view.outcomes.empty and view.latency.empty and view.outcomes.bars == []
    assert all(line.runs == [] for line in view.latency.lines)
    page = _svg(view)
    assert "No invoices in these 30 days" in page and "No invoice reached Xero in these 30 days" in page
    assert "Xero has not answered this connection today" in page
    assert "<script" not in page and " style=" not in page  # no script; CSP allows no inline styles


def test_bars_stack_each_outcome_with_its_own_pattern_and_words() -> None:
    day = DayFigures(TODAY, {"sent": 6, "failed": 2, "waiting": 2}, 1200, 4000)
    view = charts.glance_view(Glance(_days({0: day}), None), NOW)
    kinds = [bar.kind for bar in view.outcomes.bars]
    assert kinds == ["sent", "failed", "waiting"]
    heights = {bar.kind: bar.height for bar in view.outcomes.bars}
    assert abs(heights["sent"] - 3 * heights["failed"]) < 1e-9  # 6 vs 2 on the same scale
    assert [t.label for t in view.outcomes.y_ticks] == ["0", "5", "10"]
    page = _svg(view)
    for kind in ("sent", "failed", "waiting"):
        assert f'fill="url(#fill-{kind})"' in page  # a pattern, not only a colour
    assert "<title>08 Dec: 2 failed</title>" in page
    assert re.search(r"<li><svg [^>]+>.*?</svg> Failed</li>", page)  # the legend says it in words


def test_a_day_without_invoices_breaks_the_latency_lines() -> None:
    with_latency = {
        back: DayFigures(TODAY - timedelta(days=back), {"sent": 1}, 1000 + back, 2000)
        for back in (0, 1, 5, 6)
    }
    view = charts.glance_view(Glance(_days(with_latency), None), NOW)
    p50, p95 = view.latency.lines
    assert (p50.name, len(p50.runs), len(p50.marks)) == ("p50", 2, 4)  # days 6-5 ago, then 1-0 ago
    assert len(p95.runs) == 2 and p95.label_at is not None
    page = _svg(view)
    assert page.count('class="line line-p95"') == 2 and 'stroke-dasharray="6 4"' in page
    assert page.count('class="mark mark-p50"') == 4 and page.count('class="mark mark-p95"') == 4


def test_figures_of_a_day_count_outcomes_and_take_nearest_rank_percentiles() -> None:
    rows = [
        InvoiceActivity(f"i{n}", f"N{n}", "pushed" if n % 2 else "updated", "", NOW, latency_ms=n * 100)
        for n in range(1, 21)
    ] + [InvoiceActivity("f", "F", "failed", "no", NOW), InvoiceActivity("r", "R", "retrying", "", NOW)]
    figures = figures_of(TODAY, rows)
    assert figures.counts == {"sent": 10, "updated": 10, "failed": 1, "waiting": 1}
    assert (figures.p50_ms, figures.p95_ms) == (1000, 1900)
    assert percentile([], 50) == -1 and percentile([7], 95) == 7


def test_xero_usage_is_what_xero_said_is_left() -> None:
    told = XeroLeft(minute_left=48, day_left=4870, at=NOW - timedelta(seconds=20))
    usage = charts.glance_view(Glance(_days(), told), NOW).usage
    assert usage is not None and (usage.minute_used, usage.day_used, usage.minute_old) == (12, 130, False)
    stale = charts.usage_of(XeroLeft(48, 4870, NOW - timedelta(minutes=5)), NOW)
    assert stale is not None and stale.minute_old
    page = _svg(charts.glance_view(Glance(_days(), told), NOW))
    assert (
        '<span id="usage-minute">12 of 60</span>' in page
        and '<span id="usage-day">130 of 5,000</span>' in page
    )
