"""Index a function app with Azure's own Python 3.13+ worker (`azure-functions-runtime`), as Azure does.

Run with the worker's interpreter: `python index_with_azure_worker.py <app folder>`. Prints one JSON line
{"functions": [...]} and exits 0, or prints the worker's error and exits 1.

The worker receives its protobuf message classes from the Functions host at start-up; outside Azure
there is no host, so this supplies plain stand-ins with the same field names and the ordinals the host's
enums use (the indexing checks compare binding directions and data types against them)."""

from __future__ import annotations

import json
import os
import sys
import traceback
from types import SimpleNamespace
from typing import Any


def _message(name: str) -> type:
    def __init__(self: Any, **fields: Any) -> None:
        self.__dict__.update(fields)

    return type(name, (), {"__init__": __init__})


def _protos() -> SimpleNamespace:
    binding_info = _message("BindingInfo")
    # BindingInfo.Direction and DataType ordinals of the host's FunctionRpc.proto
    binding_info.out = 1  # type: ignore[attr-defined]
    binding_info.inout = 2  # type: ignore[attr-defined]
    binding_info.undefined = 0  # type: ignore[attr-defined]
    names = ("RpcFunctionMetadata", "RpcRetryOptions", "StatusResult", "RpcException", "WorkerMetadata")
    return SimpleNamespace(BindingInfo=binding_info, **{n: _message(n) for n in names})


def main(app_dir: str) -> int:
    sys.path.insert(0, app_dir)
    os.chdir(app_dir)
    from azure_functions_runtime import handle_event
    from azure_functions_runtime.bindings.meta import load_binding_registry

    handle_event.protos = _protos()
    load_binding_registry()  # what the worker does on its init request, before indexing
    try:
        results = handle_event.index_functions(os.path.join(app_dir, "function_app.py"), app_dir)
    except Exception:
        traceback.print_exc()
        return 1
    print(json.dumps({"functions": sorted(r.name for r in results or [])}))
    return 0


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")))
