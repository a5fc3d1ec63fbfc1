"""The published reference material as fixtures (a pytest plugin, for the connector's tests and the
sandboxes' alike): skipped when absent, a failure in CI (tests/reference_material.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import reference_material
from tests.reference_material import DATAVERSE_WEBHOOK_SAMPLES, XERO_SPECS


@pytest.fixture(scope="session")
def xero_spec_dir() -> Path:
    """The folder of Xero's OpenAPI specs."""
    return reference_material.require(XERO_SPECS)


@pytest.fixture(scope="session")
def webhook_samples_dir() -> Path:
    """The folder of Microsoft's published Dataverse webhook bodies."""
    return reference_material.require(DATAVERSE_WEBHOOK_SAMPLES)
