"""What the onboarding costs a person: the clicks they make (every trusted click on any page of the
journey; a choice in a drop-down is counted by the test with `chose()`, as Playwright sets it without a
click) and the seconds each step takes, from the sign-up form to the first invoice in Xero."""

from __future__ import annotations

import time

from playwright.sync_api import Page

_COUNT = (
    """document.addEventListener("click", e => { if (e.isTrusted) window.__onboardingClick(); }, true);"""
)


class OnboardingMeter:
    def __init__(self, page: Page) -> None:
        self.clicks = 0
        self.steps: list[tuple[str, float]] = []
        self._began = self._last = time.monotonic()
        page.expose_function("__onboardingClick", self._clicked)
        page.add_init_script(_COUNT)  # every page of the journey, the sandboxes' pages too

    def _clicked(self) -> None:
        self.clicks += 1

    def chose(self) -> None:
        """A choice in a drop-down: one click to open it, one on the option — counted as one."""
        self.clicks += 1

    def step(self, name: str) -> None:
        now = time.monotonic()
        self.steps.append((name, now - self._last))
        self._last = now

    def line(self) -> str:
        steps = ",".join(f"{name}:{seconds:.1f}" for name, seconds in self.steps)
        total = time.monotonic() - self._began
        return f"onboarding_clicks={self.clicks} onboarding_steps_s={steps} onboarding_total_s={total:.1f}"
