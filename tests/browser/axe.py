"""axe-core (Deque's accessibility engine, pinned in package.json) run inside a page of the portal:
what it finds of "serious" or "critical" impact, one line per rule with the elements it names."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.portal_stack import PROJECT_ROOT

AXE_JS = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""


def serious_violations(page: Page) -> list[str]:
    """Injected through the DevTools protocol (page.evaluate), which the portal's CSP does not govern:
    the pages keep their real policy while they are checked."""
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run `npm ci` (make test does)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    found: list[str] = page.evaluate(_RUN)
    return found
