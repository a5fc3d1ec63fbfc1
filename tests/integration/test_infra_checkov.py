"""checkov (pinned in the Makefile, own virtualenv .venv-checkov) finds no failed check in infra/, and every
check skipped is skipped inline in the Bicep with a reason."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIP_COMMENT = re.compile(r"//\s*checkov:skip=(CKV2?_[A-Z]+_\d+):(.*)")


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(
            f"checkov is not installed at {CHECKOV}: run `make test` (it installs it) or see the Makefile"
        )
    # --skip-download: no call to Prisma Cloud for guidelines (no network here, and it costs 30 s trying).
    # No --quiet: it drops the skipped checks from the report, and the skips are checked below.
    command = [str(CHECKOV), "-d", "infra", "--framework", "bicep", "--skip-download", "-o", "json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.stdout.strip(), f"checkov printed nothing (exit {done.returncode}):\n{done.stderr[-3000:]}"
    result = json.loads(done.stdout)
    assert isinstance(result, dict), "expected one report for the bicep framework"
    return result


def test_checkov_parses_every_bicep_file_and_fails_no_check(report: dict[str, Any]) -> None:
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 20  # the checks did run: an empty scan would "pass" too


def test_every_skip_is_inline_with_a_reason(report: dict[str, Any]) -> None:
    # GIVEN the skip comments written in the Bicep files
    comments = [
        m.groups() for p in (ROOT / "infra").rglob("*.bicep") for m in SKIP_COMMENT.finditer(p.read_text())
    ]
    assert all(len(reason.strip()) >= 20 for _, reason in comments), "give each skip a real reason"
    # THEN every check checkov skipped was skipped by one of them, and every comment skipped something
    skipped = {c["check_id"] for c in report["results"]["skipped_checks"]}
    assert skipped <= {check for check, _ in comments}
    assert {check for check, _ in comments} <= skipped, "a skip comment that skips nothing is stale"
