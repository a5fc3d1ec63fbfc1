"""App settings as the Functions host hands them to the worker: environment variables.

Order (later wins): local.settings.sample.json `Values`, or local.settings.json `Values` when that file
exists; then the process environment."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from local.host.errors import HostStartupError


def settings_file(project_root: Path) -> Path:
    own = project_root / "local.settings.json"
    return own if own.exists() else project_root / "local.settings.sample.json"


def read_values(path: Path) -> dict[str, str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as error:
        raise HostStartupError(f"{path}: not valid JSON ({error})") from None
    values = document.get("Values", {}) if isinstance(document, dict) else None
    if not isinstance(values, dict):
        raise HostStartupError(f"{path}: 'Values' must be an object of setting names to strings")
    return {str(k): "" if v is None else str(v) for k, v in values.items()}


def apply_settings(project_root: Path) -> dict[str, str]:
    """Put the file's settings into os.environ unless the environment already sets them."""
    values = read_values(settings_file(project_root))
    for name, value in values.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in values}


_EXPRESSION = re.compile(r"%([A-Za-z0-9_.:-]+)%")


def resolve_setting_expression(value: str) -> str:
    """`%NAME%` in a binding means "the app setting NAME" (as in the Functions host), also inside a
    longer value such as `%INVOICE_QUEUE%-poison`."""

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise HostStartupError(f"binding expression {value}: app setting {name} is not set")
        return os.environ[name]

    return _EXPRESSION.sub(setting, value)
