"""Load a FunctionApp and describe its functions the way the Functions host reads function.json."""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.host.errors import HostStartupError

SUPPORTED_TRIGGERS = ("httpTrigger", "queueTrigger", "timerTrigger")
# Non-trigger bindings this host can supply: the HTTP response ($return of an HTTP trigger).
SUPPORTED_BINDINGS = ("http",)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    trigger_type: str
    trigger: dict[str, Any]
    user_function: Callable[..., Any]
    parameters: tuple[str, ...] = field(default=())
    source: str = ""

    @property
    def wants_context(self) -> bool:
        return "context" in self.parameters


def load_app(target: str, project_root: Path) -> Any:
    """Import `module:attribute` (default attribute `app`) from the project root."""
    module_name, _, attribute = target.partition(":")
    if str(project_root) not in sys.path:
        sys.path.insert(0, str(project_root))
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # an import error here would otherwise hide every function
        raise HostStartupError(
            f"{module_name}: cannot be imported: {type(error).__name__}: {error}"
        ) from None
    app = getattr(module, attribute or "app", None)
    if app is None or not hasattr(app, "get_functions"):
        raise HostStartupError(f"{module_name}: no FunctionApp named {attribute or 'app'!r}")
    return app


def index_functions(app: Any) -> list[FunctionSpec]:
    # get_functions() remembers the names it saw and calls a second indexing in one process (a test
    # that starts the host twice) duplicates; the Functions host indexes once, so start from clean.
    if hasattr(app, "functions_bindings"):
        app.functions_bindings = None
    try:
        functions = app.get_functions()
    except Exception as error:
        raise HostStartupError(f"the function app could not be indexed: {error}") from None
    finally:
        # ...and leave it clean, so whoever indexes next in this process (tests/app_index.py) can too.
        if hasattr(app, "functions_bindings"):
            app.functions_bindings = None
    return [_describe(fn) for fn in functions]


def _describe(fn: Any) -> FunctionSpec:
    name = fn.get_function_name()
    user_function = fn.get_user_function()
    source = inspect.getsourcefile(user_function) or "?"
    # function.json as the Functions host reads it (enums as their names: "GET", "ANONYMOUS")
    bindings = json.loads(fn.get_function_json())["bindings"]
    triggers = [b for b in bindings if str(b.get("type", "")).endswith("Trigger")]
    if len(triggers) != 1:
        raise HostStartupError(f"{source}: function {name} needs exactly one trigger")
    trigger = triggers[0]
    if trigger["type"] not in SUPPORTED_TRIGGERS:
        raise HostStartupError(
            f"{source}: function {name} uses trigger type {trigger['type']!r}, which this local host "
            f"cannot serve (it serves {', '.join(SUPPORTED_TRIGGERS)}); use `func start` for it"
        )
    for binding in bindings:
        if binding is not trigger and binding.get("type") not in SUPPORTED_BINDINGS:
            raise HostStartupError(
                f"{source}: function {name} has a {binding.get('type')!r} binding, which this local host "
                "cannot serve; use the storage SDK from shared/ instead, or `func start`"
            )
    parameters = tuple(inspect.signature(user_function).parameters)
    if trigger["name"] not in parameters:
        raise HostStartupError(f"{source}: function {name} has no parameter named {trigger['name']!r}")
    return FunctionSpec(name, trigger["type"], trigger, user_function, parameters, source)
