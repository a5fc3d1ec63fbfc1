"""A fresh clone in an empty folder, with no ../shared beside it, passes: the tests that need the published
reference material skip with one summary line saying how to get it; those that stand on their own run."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.reference_material import PROJECT_ROOT


def _clone_files(into: Path) -> None:
    """What a clone of this checkout holds: the tracked files and the new ones git does not ignore (so the
    check sees uncommitted work too), and nothing git ignores."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
    )
    if listed.returncode != 0:  # a source tree without git (an archive): everything .gitignore keeps
        return _copy_without_ignored(into)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)


def _copy_without_ignored(into: Path) -> None:
    rules = [line.strip().strip("/") for line in (PROJECT_ROOT / ".gitignore").read_text().splitlines()]
    rules = [rule for rule in rules if rule and not rule.startswith("#")]

    def ignored(folder: str, names: list[str]) -> set[str]:
        return {name for name in names if any(fnmatch.fnmatch(name, rule) for rule in rules)}

    shutil.copytree(PROJECT_ROOT, into, ignore=ignored, dirs_exist_ok=True)


def test_a_clone_without_reference_material_skips_what_needs_it_and_says_how_to_get_it(
    tmp_path: Path,
) -> None:
    # GIVEN a clone in an empty folder: no ../shared beside it, no REFERENCE_DIR, not CI
    clone = tmp_path / "empty" / "connector"
    clone.mkdir(parents=True)
    _clone_files(clone)
    # The installed tools are reused, not reinstalled (`make test` installs them in a real fresh clone).
    (clone / "node_modules").symlink_to(PROJECT_ROOT / "node_modules", target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k not in ("REFERENCE_DIR", "REFERENCE_REQUIRED")}
    assert not (clone.parent / "shared").exists()
    # WHEN every test that uses reference material runs there
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--reference-only", "-p", "no:randomly"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    # THEN nothing fails or errors: those that need the material skip, the sandbox tests still run
    lines = run.stdout.strip().splitlines()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    result = next(line for line in reversed(lines) if re.search(r"\d+ (passed|skipped)", line))
    skipped, passed = (int(re.search(rf"(\d+) {word}", result).group(1)) for word in ("skipped", "passed"))
    assert skipped >= 20 and passed >= 40 and "error" not in result and "failed" not in result
    assert "Stripe" in lines[-1]  # a test reaching its material from its own fixture is found too
    # AND the very last line sums up the skips for want of material and says where to get each
    for_want = sum(
        int(n) for n in re.findall(r"SKIPPED \[(\d+)\] .*: reference material absent: ", run.stdout)
    )
    assert lines[-1].startswith(f"{for_want} tests skipped, reference material absent from ")
    assert for_want >= 20
    assert "https://github.com/XeroAPI/Xero-OpenAPI" in lines[-1]
    assert "'Use webhooks to create external handlers for server events'" in lines[-1]
    unchecked = re.search(
        r"(\d+) sandbox Xero tests ran without checking answers against the spec", lines[-1]
    )
    assert unchecked is not None and 40 <= int(unchecked.group(1)) <= passed
    assert sum("reference material absent from" in line for line in lines) == 1
