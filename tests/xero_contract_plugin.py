"""Records every answer the sandbox Xero gives during the run and, at its end, holds them all to Xero's
contract (tests/xero_contract.py): the spec with closed schemas when ../shared/reference is there, Xero's
own SDK always. Any breach fails the run and is listed, so a sandbox that drifts from Xero cannot stay
green."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml

from local.sandbox.xero.recorder import ENVIRONMENT_VARIABLE
from tests import reference_material, xero_contract
from tests.reference_material import XERO_SPECS

_FOLDER = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    folder = Path(tempfile.mkdtemp(prefix="xero-traffic-"))
    os.environ[ENVIRONMENT_VARIABLE] = str(folder)
    config.stash[_FOLDER] = folder


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    folder = session.config.stash.get(_FOLDER, None)
    if folder is None:
        return
    recorded = list(xero_contract.distinct(xero_contract.exchanges(folder)))
    shutil.rmtree(folder, ignore_errors=True)
    if not recorded:
        return
    problems = xero_contract.sdk_violations(recorded)
    checked = "xero-python's models"
    if reference_material.present(XERO_SPECS):
        with open(XERO_SPECS.location() / "xero_accounting.yaml", encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)
        problems += xero_contract.spec_violations(spec, recorded)
        checked += " and Xero's spec with closed schemas"
    elif reference_material.required():
        problems.append(f"{XERO_SPECS.name} not found at {XERO_SPECS.location()} (REFERENCE_REQUIRED is set)")
    problems = xero_contract.unique(problems)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"sandbox Xero contract: {len(recorded)} distinct answers checked against {checked}"
        )
        for problem in problems[:40]:
            reporter.write_line(f"  CONTRACT: {problem}", red=True)
        if len(problems) > 40:
            reporter.write_line(f"  ... and {len(problems) - 40} more", red=True)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
