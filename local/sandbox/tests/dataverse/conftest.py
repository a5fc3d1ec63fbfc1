"""The Dataverse sandbox tests' own fixtures; the sandbox itself (`sb`: one server, reset for each test)
comes from local/sandbox/fixtures.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.sandbox.dataverse import DataverseSandbox

from .helpers import Receiver, WebApiClient, app_token


@pytest.fixture
def api(sb: DataverseSandbox) -> WebApiClient:
    return WebApiClient(sb, app_token(sb))


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        assert server.server is not None
        server.server.stop()


@pytest.fixture
def receiver(receiver_server: Receiver, sb: DataverseSandbox) -> Receiver:
    """A webhook receiver with no calls recorded yet (after the sandbox reset dropped pending deliveries)."""
    sb.webhooks.wait_idle()
    with receiver_server.lock:
        receiver_server.calls.clear()
        receiver_server.statuses.clear()
    return receiver_server
