"""The sandboxes' pytest fixtures, the one set every test uses (the project's tests through
tests/conftest.py's pytest_plugins, the sandboxes' own tests alike): one server of each for the whole run
(a Dataverse start costs a certificate, stopping a server half a second) and a reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.sandbox.dataverse import DataverseSandbox
from local.sandbox.xero import XeroSandbox


@pytest.fixture(scope="session")
def dataverse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataverseSandbox]:
    server = DataverseSandbox(cert_dir=Path(tmp_path_factory.mktemp("dataverse-certs"))).start(port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sb(dataverse_server: DataverseSandbox) -> DataverseSandbox:
    """The sandbox Dataverse, as seeded: what a test before this one did is gone."""
    dataverse_server.reset()
    return dataverse_server


@pytest.fixture(scope="session")
def xero_server() -> Iterator[XeroSandbox]:
    server = XeroSandbox(time_scale=1.0).start(port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def xero_sandbox(xero_server: XeroSandbox) -> XeroSandbox:
    """The sandbox Xero with its demo organisations as seeded, on a real-time clock, no webhook subscribed."""
    state = xero_server.state
    state.reset()
    state.seed("demo")
    state.clock.set_scale(1.0)
    state.webhooks.configure(None, "")
    return xero_server
