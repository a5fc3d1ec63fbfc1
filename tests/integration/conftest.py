"""Fixtures of the connection-service tests: a fresh store per test on the sandboxes of the run
(local/sandbox/fixtures.py: one server each, reset for every test)."""

from __future__ import annotations

import pytest

from local.sandbox.dataverse import DataverseSandbox
from local.sandbox.xero import XeroSandbox
from tests.integration.connection_helpers import World, fresh_world


@pytest.fixture
def world(
    xero_sandbox: XeroSandbox, sb: DataverseSandbox, storage_connection: str, unique_name: str
) -> World:
    """Services wired to the sandboxes and a store of their own (test_push_end_to_end has its own `world`)."""
    return fresh_world(xero_sandbox, sb, storage_connection, unique_name)
