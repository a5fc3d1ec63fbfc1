"""Browser tests: Debian's Chromium through pytest-playwright, against the portal in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.portal_stack import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    # `playwright install` cannot download here; Debian's chromium is what `make test` installs.
    return {
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # The sandbox Dataverse (Microsoft sign-in, its invoice pages) serves HTTPS with its own local CA: a
    # person clicks through the browser's warning once (README), the tests accept it throughout.
    return {**browser_context_args, "ignore_https_errors": True}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
