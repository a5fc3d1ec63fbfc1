"""Fixtures of the connection-service tests: both sandboxes per module, a fresh store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.sandbox.dataverse import DataverseSandbox
from local.sandbox.xero import XeroSandbox
from tests.integration.connection_helpers import World, fresh_world, start_sandboxes


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[XeroSandbox, DataverseSandbox]]:
    xero, dataverse = start_sandboxes(Path(tmp_path_factory.mktemp("certs")))
    yield xero, dataverse
    xero.stop()
    dataverse.stop()


@pytest.fixture
def world(
    sandboxes: tuple[XeroSandbox, DataverseSandbox], storage_connection: str, unique_name: str
) -> World:
    """Services wired to the sandboxes and a store of their own (test_push_end_to_end has its own `world`)."""
    return fresh_world(*sandboxes, storage_connection, unique_name)
