"""The app's functions, indexed once: FunctionApp.get_functions() refuses to run twice in one process
(it remembers the names it saw and reports them as duplicates)."""

import functools
import json
from typing import Any

import function_app


@functools.cache
def functions() -> tuple[Any, ...]:
    return tuple(function_app.app.get_functions())


def triggers() -> dict[str, dict[str, Any]]:
    """Function name → its trigger binding as function.json shows it."""
    found = {}
    for fn in functions():
        bindings = json.loads(fn.get_function_json())["bindings"]
        found[fn.get_function_name()] = next(b for b in bindings if b["type"].endswith("Trigger"))
    return found


def user_function(name: str) -> Any:
    return next(fn for fn in functions() if fn.get_function_name() == name).get_user_function()
