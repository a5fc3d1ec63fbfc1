"""Imports read one way, down the layers of ARCHITECTURE.md: a module of shared/ imports only its own
layer and those below it, no two packages of shared/ import each other, and neither shared/ nor
functions/ imports the developer-only code (local/, tests/, bench/). Checked on the source with ast, so a
lazy import inside a function counts as much as one at the top of a module. And no test module imports
another (what they share lives in tests/support/)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The layers, bottom first (ARCHITECTURE.md). A package or module of shared/ that is not listed fails the
# check until it is given a layer.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "bottom",
        frozenset(
            {
                "__init__",
                "config",
                "errors",
                "crypto",
                "signing",
                "templating",
                "http",
                "storage",
                "storage_transport",
                "time_zones",
            }
        ),
    ),
    ("clients", frozenset({"xero", "dataverse", "email"})),
    ("store", frozenset({"store"})),
    (
        "services",
        frozenset({"accounts", "reference", "sync", "billing", "xero_inbound", "health", "backfill"}),
    ),
    ("connections", frozenset({"connections"})),
    ("web", frozenset({"web"})),
    ("composition root", frozenset({"bootstrap"})),
)
DEVELOPER_ONLY = ("local", "tests", "bench")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def imports(root: Path) -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every absolute import in shared/, functions/ and
    function_app.py. `from shared import x` counts as importing shared.x."""
    files = [*sorted((root / "shared").rglob("*.py")), *sorted((root / "functions").rglob("*.py"))]
    files += [root / "function_app.py"] if (root / "function_app.py").exists() else []
    found: list[tuple[str, str, int]] = []
    for path in files:
        importer = _module_name(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found += [(importer, alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "shared":  # a submodule, or a name defined in shared/__init__.py
                    found += [(importer, _in_shared(root, alias.name), node.lineno) for alias in node.names]
                else:
                    found.append((importer, node.module, node.lineno))
    return found


def _in_shared(root: Path, name: str) -> str:
    is_module = (root / "shared" / f"{name}.py").exists() or (root / "shared" / name).is_dir()
    return f"shared.{name}" if is_module else "shared"


def _unit(module: str) -> str:
    """The package (or top-level module) of shared/ a module belongs to: shared.sync.push → sync."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(unit: str) -> int | None:
    return next((rank for rank, (_, units) in enumerate(LAYERS) if unit in units), None)


def violations(root: Path) -> list[str]:
    found: list[str] = []
    depends: dict[str, set[str]] = defaultdict(set)
    for importer, imported, line in imports(root):
        where = f"{importer} (line {line}) imports {imported}"
        if imported.split(".")[0] in DEVELOPER_ONLY:
            found.append(f"{where}: developer-only code in the product")
            continue
        if importer.split(".")[0] == "shared" and imported.split(".")[0] == "functions":
            found.append(f"{where}: shared/ must not import the entry points")
            continue
        if importer.split(".")[0] != "shared" or imported.split(".")[0] != "shared":
            continue
        low, high = _unit(importer), _unit(imported)
        for unit in (low, high):
            if _layer(unit) is None:
                found.append(f"shared/{unit} has no layer: add it to LAYERS in {Path(__file__).name}")
        if low != high:
            depends[low].add(high)
        below, above = _layer(low), _layer(high)
        if below is None or above is None or above <= below:
            continue
        found.append(f"{where}: {LAYERS[below][0]} imports upwards into {LAYERS[above][0]}")
    for a in sorted(depends):
        found += [
            f"shared/{a} and shared/{b} import each other"
            for b in sorted(depends[a])
            if a < b and a in depends[b]
        ]
    return sorted(set(found))


def test_every_import_reads_down_the_layers() -> None:
    assert violations(ROOT) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"shared/__init__.py": "", "functions/__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"shared/xero/accounting.py": "def f():\n    from shared.sync.xero_errors import explain\n"},
            "accounting (line 2) imports shared.sync.xero_errors: clients imports upwards into services",
        ),
        (
            {"shared/store/models.py": "from shared import bootstrap\n", "shared/bootstrap.py": ""},
            "models (line 1) imports shared.bootstrap: store imports upwards into composition root",
        ),
        (
            {
                "shared/accounts/a.py": "import shared.sync.b\n",
                "shared/sync/b.py": "import shared.accounts.a\n",
            },
            "shared/accounts and shared/sync import each other",
        ),
        (
            {"functions/hook.py": "from local.stack import LocalStack\n"},
            "functions.hook (line 1) imports local.stack: developer-only code in the product",
        ),
        (
            {"shared/config.py": "import tests.conftest\n"},
            "shared.config (line 1) imports tests.conftest: developer-only code in the product",
        ),
        (
            {"shared/gadgets/x.py": "from shared.config import Settings\n"},
            "shared/gadgets has no layer: add it to LAYERS in test_import_layers.py",
        ),
    ],
)
def test_the_check_finds_each_kind_of_wrong_import(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    found = violations(_tree(tmp_path, files))
    assert any(expected in problem for problem in found), found


def test_imports_downwards_and_within_a_package_pass(tmp_path: Path) -> None:
    files = {
        "shared/sync/push.py": "from shared.xero.errors import retry_after\nfrom shared.sync import events\n",
        "shared/web/pages.py": "from shared import templating\nfrom shared.accounts.fields import problem\n",
        "shared/http.py": "from shared import __version__\n",
        "functions/hook.py": "from shared import bootstrap\n",
        "shared/bootstrap.py": "from shared.web import pages\n",
        "shared/templating.py": "",
    }
    assert violations(_tree(tmp_path, files)) == []


# -- the tests themselves -------------------------------------------------------------------------------
TEST_DIRS = ("tests", "local/sandbox/tests")
_MAY_IMPORT_A_TEST = re.compile(r"^\s*(from|import)\s[^\n]*\btest_", re.M)


def imports_of_test_modules(root: Path) -> list[str]:
    """A test module imported by another module of the tests: what they share belongs in tests/support/
    (or a helper module), so that each test module can be read, moved and run on its own."""
    found: list[str] = []
    for folder in TEST_DIRS:
        for path in sorted((root / folder).rglob("*.py")) if (root / folder).is_dir() else []:
            importer, text = path.relative_to(root).as_posix(), path.read_text(encoding="utf-8")
            if not _MAY_IMPORT_A_TEST.search(text):
                continue  # parsing every test file is slow; only one with such a line can import a test
            for node in ast.walk(ast.parse(text, str(path))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    names = [module] + [f"{module}.{alias.name}" for alias in node.names if node.level]
                found += [
                    f"{importer} (line {node.lineno}) imports the test module {name.lstrip('.')}"
                    for name in names
                    if name.rsplit(".", 1)[-1].startswith("test_")
                ]
    return found


def test_no_test_module_imports_another() -> None:
    assert imports_of_test_modules(ROOT) == []


@pytest.mark.parametrize(
    "text",
    [
        "from tests.integration.test_push import World\n",
        "def f():\n    from .test_auth import settings_for\n",
        "from . import test_auth\n",
        "import tests.unit.test_infra_settings\n",
    ],
)
def test_the_check_finds_a_test_module_imported_by_another(tmp_path: Path, text: str) -> None:
    _tree(tmp_path, {"tests/integration/test_other.py": text})
    assert len(imports_of_test_modules(tmp_path)) == 1


def test_helpers_and_fixture_modules_may_be_imported(tmp_path: Path) -> None:
    files = {"tests/integration/test_other.py": "from tests.support.world import World\nimport pytest\n"}
    assert imports_of_test_modules(_tree(tmp_path, files)) == []
