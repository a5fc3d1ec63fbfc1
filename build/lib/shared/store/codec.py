"""Dataclass records <-> Table entities.

Nested dataclasses are flattened into prefixed properties (`xero_error_reason`) so a row stays readable in
Storage Explorer; lists and dicts become JSON strings; fields marked secret are encrypted with the owner's
id and the property name as associated data. A property holds at most 64 KiB (32 K UTF-16 characters), so
long secrets (an MSAL cache) are split over `name`, `name__1`, `name__2`, ... Every write replaces the whole
entity, so chunks left over from a longer value disappear.
"""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Mapping
from dataclasses import asdict, fields, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

from shared.crypto import KeyRing

T = TypeVar("T")
CHUNK_CHARS = 30_000


class EntityCodec(Generic[T]):
    def __init__(self, record_type: type[T], keys: KeyRing | None = None) -> None:
        self._type = record_type
        self._keys = keys

    def to_properties(self, record: T, owner: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._write(out, "", record, owner)
        return out

    def from_properties(self, entity: Mapping[str, Any], owner: str) -> T:
        record: T = self._read(self._type, entity, "", owner)
        return record

    def _write(self, out: dict[str, Any], prefix: str, record: Any, owner: str) -> None:
        hints = _hints(record.__class__)
        for f in fields(record):
            if not f.metadata.get("stored", True):
                continue
            name, value = prefix + f.name, getattr(record, f.name)
            if is_dataclass(hints[f.name]):
                self._write(out, name + "_", value, owner)
            elif f.metadata.get("secret"):
                if value:
                    self._put_secret(out, name, value, owner)
            elif isinstance(value, list | dict):
                out[name] = json.dumps(_jsonable(value), separators=(",", ":"))
            elif isinstance(value, Enum):
                out[name] = value.value
            else:
                out[name] = value

    def _read(self, record_type: Any, entity: Mapping[str, Any], prefix: str, owner: str) -> Any:
        hints, values = _hints(record_type), {}
        for f in fields(record_type):
            if not f.metadata.get("stored", True):
                continue
            name, kind = prefix + f.name, hints[f.name]
            if is_dataclass(kind):
                values[f.name] = self._read(kind, entity, name + "_", owner)
            elif name not in entity or entity[name] is None:
                continue
            elif f.metadata.get("secret"):
                values[f.name] = self._get_secret(entity, name, owner)
            elif get_origin(kind) in (list, dict):
                values[f.name] = _from_jsonable(kind, json.loads(entity[name]))
            else:
                values[f.name] = _scalar(kind, entity[name])
        return record_type(**values)

    def _put_secret(self, out: dict[str, Any], name: str, value: str, owner: str) -> None:
        sealed = self._require_keys().encrypt(value, owner=owner, field=name)
        chunks = [sealed[i : i + CHUNK_CHARS] for i in range(0, len(sealed), CHUNK_CHARS)]
        for index, chunk in enumerate(chunks):
            out[name if index == 0 else f"{name}__{index}"] = chunk

    def _get_secret(self, entity: Mapping[str, Any], name: str, owner: str) -> str:
        parts, index = [str(entity[name])], 1
        while f"{name}__{index}" in entity:
            parts.append(str(entity[f"{name}__{index}"]))
            index += 1
        return self._require_keys().decrypt("".join(parts), owner=owner, field=name)

    def _require_keys(self) -> KeyRing:
        if self._keys is None:
            raise RuntimeError(f"{self._type.__name__} has secret fields but the store has no key ring")
        return self._keys


@functools.cache
def _hints(record_type: Any) -> dict[str, Any]:
    return get_type_hints(record_type)


def _without_none(kind: Any) -> Any:
    if get_origin(kind) in (Union, types.UnionType):
        remaining = [arg for arg in get_args(kind) if arg is not type(None)]
        return remaining[0] if len(remaining) == 1 else kind
    return kind


def _scalar(kind: Any, raw: Any) -> Any:
    kind = _without_none(kind)
    if kind is datetime:
        moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        # A plain datetime, not the SDK's subclass: records compare and print the same however read.
        return datetime(*moment.timetuple()[:6], moment.microsecond, tzinfo=UTC)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(raw)
    return raw


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value.value if isinstance(value, Enum) else value


def _from_jsonable(kind: Any, raw: Any) -> Any:
    kind = _without_none(kind)
    if raw is None:
        return None
    if get_origin(kind) is list:
        (item,) = get_args(kind)
        return [_from_jsonable(item, entry) for entry in raw]
    if get_origin(kind) is dict:
        _, item = get_args(kind)
        return {key: _from_jsonable(item, entry) for key, entry in raw.items()}
    if isinstance(kind, type) and is_dataclass(kind):
        hints = _hints(kind)
        return kind(
            **{f.name: _from_jsonable(hints[f.name], raw[f.name]) for f in fields(kind) if f.name in raw}
        )
    return _scalar(kind, raw)
