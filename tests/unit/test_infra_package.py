"""What azd deploys: azure.yaml against azd's own schema, `pip install .` on this flat layout (azd runs it
when it finds pyproject.toml), and the folder azd zips for the function app, less what .funcignore lists."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

from tests.reference_material import AZURE_YAML_SCHEMA, require

ROOT = Path(__file__).resolve().parents[2]

# What a developer's checkout holds besides the tracked files: caches, virtualenvs (azd's own restore
# creates "<folder>_env" in the project), build output, local state, secrets.
DEVELOPER_LEFTOVERS = [
    ".hypothesis/examples/0a1b/2c3d",
    ".mypy_cache/3.11/shared/config.data.json",
    ".ruff_cache/0.17.6/123456",
    ".pytest_cache/v/cache/nodeids",
    "__pycache__/function_app.cpython-313.pyc",
    "shared/__pycache__/config.cpython-313.pyc",
    ".venv/bin/python",
    ".venv-worker/pyvenv.cfg",
    ".venv-checkov/pyvenv.cfg",
    "venv/pyvenv.cfg",
    "env/pyvenv.cfg",
    ".env/pyvenv.cfg",
    f"{ROOT.name}_env/pyvenv.cfg",
    ".azure/dxc-prod/.env",
    "local.settings.json",
    ".local/azurite/__blobstorage__/x",
    "test-artifacts/trace.zip",
    "build/lib/shared/config.py",
    "dist/dynamics_xero_connector-0.1.0-py3-none-any.whl",
    "dynamics_xero_connector.egg-info/PKG-INFO",
    ".coverage",
    "node_modules/playwright/index.js",
]
NEVER_SHIPPED_FOLDERS = {"local", "tests", "bench", "infra", "node_modules", "build", "dist"}
NEVER_SHIPPED_PARTS = {"__pycache__", ".hypothesis", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".azure"}


def _patterns(text: str) -> list[tuple[bool, str, bool]]:
    """.funcignore lines as (negated, pattern, directories only), in gitignore's syntax."""
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line.lstrip("!")
        found.append((negated, line.rstrip("/"), line.endswith("/")))
    return found


def _ignored(path: str, is_dir: bool, patterns: list[tuple[bool, str, bool]]) -> bool:
    result = False
    for negated, pattern, directories_only in patterns:
        if directories_only and not is_dir:
            continue
        target = path if "/" in pattern else path.rsplit("/", 1)[-1]
        if fnmatch.fnmatchcase(target, pattern.lstrip("/")):
            result = not negated
    return result


def packaged(files: list[str], funcignore: str) -> list[str]:
    """The files azd would zip: a file goes unless it, or a folder above it, matches .funcignore."""
    patterns = _patterns(funcignore)
    kept = []
    for path in files:
        parts = path.split("/")
        folders = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
        if not any(_ignored(f, True, patterns) for f in folders) and not _ignored(path, False, patterns):
            kept.append(path)
    return kept


def checkout_files(funcignore: str) -> list[str]:
    """This checkout's files, not descending into folders .funcignore leaves out (a virtualenv holds
    thousands of files; nothing under an ignored folder can ship)."""
    patterns = _patterns(funcignore)
    files = []
    for folder, subfolders, names in os.walk(ROOT):
        relative = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if relative == "." else f"{relative}/"
        subfolders[:] = [
            s
            for s in subfolders
            if s != ".git"
            and not os.path.islink(Path(folder) / s)
            and not _ignored(prefix + s, True, patterns)
        ]
        files += [prefix + name for name in names]
    return files


def _virtualenv(path: str) -> bool:
    return path.endswith("pyvenv.cfg") or "/bin/python" in f"/{path}"


def test_the_package_holds_the_app_and_nothing_of_a_developer_checkout() -> None:
    # GIVEN this checkout plus what a developer's machine leaves beside it
    funcignore = (ROOT / ".funcignore").read_text()
    files = checkout_files(funcignore) + DEVELOPER_LEFTOVERS
    # WHEN azd builds the package
    shipped = packaged(files, funcignore)
    # THEN the app is in it
    needed = {"function_app.py", "host.json", "requirements.txt", "shared/config.py", "functions/health.py"}
    assert needed <= set(shipped), needed - set(shipped)
    assert any(path.startswith("shared/") and path.endswith(".html") for path in shipped), "templates"
    # AND no cache, virtualenv, test, benchmark, sandbox or local state
    leaked = [
        path
        for path in shipped
        if path.split("/")[0] in NEVER_SHIPPED_FOLDERS
        or NEVER_SHIPPED_PARTS & set(path.split("/"))
        or _virtualenv(path)
        or path.endswith((".pyc", ".whl"))
        or ".egg-info/" in path
        or path in {"local.settings.json", ".coverage"}
    ]
    assert not leaked, f"add these to .funcignore: {sorted(leaked)}"


def test_the_listing_follows_gitignore_rules() -> None:
    rules = "tests/\n*.pyc\n/build/\n!keep.pyc\n"
    files = ["tests/a.py", "shared/tests/b.py", "x.pyc", "keep.pyc", "build/y", "shared/build/z"]
    assert packaged(files, rules) == ["keep.pyc", "shared/build/z"]


def test_pip_install_dot_finds_the_apps_packages_and_its_runtime_dependencies(tmp_path: Path) -> None:
    # A flat layout: setuptools' automatic discovery refuses it unless pyproject.toml names the packages.
    python = _python_with_setuptools()
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "requirements.txt", "function_app.py", "host.json"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("functions", "shared", "local", "tests", "bench", "infra"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    # WHEN setuptools reads the project (the step of `pip install .` that fails on a flat layout)
    done = subprocess.run(
        [python, "-c", "from setuptools import setup; setup()", "-q", "egg_info", f"--egg-base={tmp_path}"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (info,) = tmp_path.glob("*.egg-info")
    # THEN it installs the app's code only, with requirements.txt's pins
    assert (info / "top_level.txt").read_text().split() == ["function_app", "functions", "shared"]
    requires = (info / "requires.txt").read_text()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        pin = line.split(";")[0].strip()
        if pin and not pin.startswith("#"):
            assert pin in requires, pin


def _python_with_setuptools() -> str:
    for candidate in (sys.executable, shutil.which("python3"), shutil.which("python3.11")):
        probe = [candidate, "-c", "import setuptools"] if candidate else []
        if probe and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            return probe[0]
    pytest.fail("no Python with setuptools here: install it (pip install setuptools) to check the packaging")


@pytest.fixture(scope="module")
def azd_schema() -> jsonschema.protocols.Validator:
    schema = json.loads(require(AZURE_YAML_SCHEMA).read_text())

    def elsewhere(uri: str) -> Resource:
        # azd's schema points at azd extensions' schemas for their own hosts (azure.ai.agent): not fetched
        # (no network in tests); this project uses none of those hosts
        return Resource.from_contents({}, default_specification=DRAFT201909)

    registry: Registry = Registry(retrieve=elsewhere)
    return jsonschema.validators.validator_for(schema)(schema, registry=registry)


def _schema_problems(validator: jsonschema.protocols.Validator, document: dict) -> list[str]:
    errors = validator.iter_errors(document)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
    # The schema lists hosts and languages as examples only; a value outside them is refused (stricter).
    service = validator.schema["properties"]["services"]["additionalProperties"]["properties"]
    for name, definition in document.get("services", {}).items():
        for key in ("host", "language"):
            if key in definition and definition[key] not in service[key]["examples"]:
                problems.append(f"services/{name}/{key}: {definition[key]!r} is not one azd knows")
    return problems


def test_azure_yaml_is_valid_for_azd(azd_schema: jsonschema.protocols.Validator) -> None:
    document = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert _schema_problems(azd_schema, document) == []


@pytest.mark.parametrize(
    "document",
    [
        {"name": "x", "services": {"api": {"project": ".", "language": "python", "host": "function"}}},
        {"name": "dxc", "services": {"api": {"project": ".", "language": "python", "host": "functions"}}},
        {"name": "dxc", "services": {"api": {"project": ".", "language": "python"}}},
        {"name": "dxc", "hooks": {"preprovision": {"shell": "sh"}}},
    ],
)
def test_the_schema_check_refuses_a_broken_azure_yaml(
    azd_schema: jsonschema.protocols.Validator, document: dict
) -> None:
    assert _schema_problems(azd_schema, document)
