"""One sandbox for the module's tests (starting it costs a certificate); each test starts from a reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.sandbox.dataverse import DataverseSandbox

from .helpers import Receiver, WebApiClient, app_token


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataverseSandbox]:
    sb = DataverseSandbox(cert_dir=Path(tmp_path_factory.mktemp("dataverse-certs"))).start(port=0)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def sb(sandbox_server: DataverseSandbox) -> DataverseSandbox:
    sandbox_server.reset()
    return sandbox_server


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
