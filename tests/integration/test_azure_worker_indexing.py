"""Azure's own Python worker (azure-functions-runtime, Python 3.13+) indexes function_app.py: it checks
parameter names and types against the bindings, which app.get_functions() alone does not."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.app_index import functions

ROOT = Path(__file__).resolve().parents[2]
WORKER_PYTHON = ROOT / ".venv-worker" / "bin" / "python"
SCRIPT = ROOT / "tests" / "worker" / "index_with_azure_worker.py"


def _index(app_dir: Path) -> subprocess.CompletedProcess:
    if not WORKER_PYTHON.exists():
        pytest.fail(
            f"{WORKER_PYTHON} is missing: `make test` builds it with python3.13 (is python3.13 installed?)"
        )
    return subprocess.run(
        [str(WORKER_PYTHON), str(SCRIPT), str(app_dir)], capture_output=True, text=True, timeout=120
    )


def test_the_worker_indexes_every_function() -> None:
    result = _index(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    indexed = json.loads(result.stdout.strip().splitlines()[-1])["functions"]
    assert indexed == sorted(fn.get_function_name() for fn in functions())


def test_the_worker_refuses_a_parameter_that_matches_no_binding(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n"
        "@app.queue_trigger(arg_name='msg', queue_name='q', connection='AzureWebJobsStorage')\n"
        "def f(message: func.QueueMessage) -> None:\n"
        "    pass\n"
    )
    result = _index(tmp_path)
    assert result.returncode == 1
    assert "declared in Python but not in the function definition" in result.stderr
