"""Browser tests: Debian's Chromium through pytest-playwright, against the portal in this process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.azurite import Azurite
from tests.browser.portal_stack import PROJECT_ROOT, Portal, running_portal

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


@pytest.fixture(scope="module")
def portal(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with running_portal(azurite, tmp_path_factory.mktemp("portal-browser")) as running:
        yield running


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
