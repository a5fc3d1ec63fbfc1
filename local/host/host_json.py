"""host.json, read as the Functions host reads the parts this local host implements."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.host.errors import HostStartupError

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$")


def parse_timespan(text: str) -> float:
    """A .NET TimeSpan ("00:00:30", "1.00:00:00") in seconds."""
    match = _TIMESPAN.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a TimeSpan like 00:00:30")
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float("0." + fraction) if fraction else 0.0)


@dataclass(frozen=True)
class QueueOptions:
    batch_size: int = 16
    new_batch_threshold: int | None = None  # default: batch_size / 2
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5
    max_polling_interval: float = 60.0
    message_encoding: str = "base64"

    @property
    def threshold(self) -> int:
        return self.new_batch_threshold if self.new_batch_threshold is not None else self.batch_size // 2


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = QueueOptions()
    function_timeout: float = 300.0


def load_host_config(path: Path) -> HostConfig:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HostStartupError(f"{path}: not found (every function app has a host.json)") from None
    except json.JSONDecodeError as error:
        raise HostStartupError(f"{path}: not valid JSON: {error}") from None
    try:
        return _parse(document)
    except (TypeError, ValueError, AttributeError) as error:
        raise HostStartupError(f"{path}: {error}") from None


def _parse(document: Any) -> HostConfig:
    if not isinstance(document, dict):
        raise ValueError("the top level must be a JSON object")
    if document.get("version") != "2.0":
        raise ValueError('"version" must be "2.0"')
    extensions = _object(document, "extensions")
    http = _object(extensions, "http", "extensions.")
    queues = _object(extensions, "queues", "extensions.")
    options = QueueOptions(
        batch_size=_int(queues, "batchSize", 16, 1, 32),
        new_batch_threshold=_int(queues, "newBatchThreshold", None, 0, 10_000),
        visibility_timeout=_span(queues, "visibilityTimeout", 0.0),
        max_dequeue_count=_int(queues, "maxDequeueCount", 5, 1, 10_000),
        max_polling_interval=_span(queues, "maxPollingInterval", 60.0),
        message_encoding=_encoding(queues),
    )
    prefix = http.get("routePrefix", "api")
    if not isinstance(prefix, str):
        raise ValueError("extensions.http.routePrefix must be a string")
    timeout = document.get("functionTimeout", "00:05:00")
    return HostConfig(
        route_prefix=prefix.strip("/"), queues=options, function_timeout=parse_timespan(timeout)
    )


def _object(parent: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{where}{key} must be an object")
    return value


def _int(section: dict[str, Any], key: str, default: int | None, low: int, high: int) -> Any:
    value = section.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(
            f"extensions.queues.{key} must be a whole number from {low} to {high}, not {value!r}"
        )
    return value


def _span(section: dict[str, Any], key: str, default: float) -> float:
    value = section.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"extensions.queues.{key} must be a TimeSpan string like 00:00:30")
    try:
        return parse_timespan(value)
    except ValueError as error:
        raise ValueError(f"extensions.queues.{key}: {error}") from None


def _encoding(section: dict[str, Any]) -> str:
    value = str(section.get("messageEncoding", "base64")).lower()
    if value not in ("base64", "none"):
        raise ValueError('extensions.queues.messageEncoding must be "base64" or "none"')
    return value
