"""Checks a resource body read by bicep_reader against Azure's generated Bicep type definitions
(Azure/bicep-types-az, copied to ../shared/reference/azure/bicep-types/): every property path exists for
that API version, nothing read-only is set, required properties are present, and literal values have the
type, range, pattern or allowed value the definition gives. Values that only a deployment knows
(parameters, functions) are not judged.

Stricter than Bicep on one point: where a definition lists allowed strings and also accepts "any string"
(an open enum), a literal must still be one of the listed ones (a typo like 'Userassigned' would
otherwise pass)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.reference_material import AZURE_BICEP_TYPES
from tests.unit.bicep_reader import Expression, Resource

Types = list[dict[str, Any]]
REFERENCE = AZURE_BICEP_TYPES.location()  # ../shared/reference/azure/bicep-types, or under REFERENCE_DIR

# Type property flags (bicep-types: TypePropertyFlags).
REQUIRED, READ_ONLY = 1, 2
# Bicep's own keywords in a resource body: not properties of the resource type.
BICEP_KEYWORDS = {"parent", "scope", "dependsOn"}


class TypeIndex:
    def __init__(self, folder: Path = REFERENCE) -> None:
        self._by_resource: dict[str, tuple[Types, int]] = {}
        for path in sorted(folder.glob("*.json")):
            types = json.loads(path.read_text())
            for entry in types:
                if entry["$type"] == "ResourceType":
                    self._by_resource[entry["name"].lower()] = (types, _ref(entry["body"]))

    def knows(self, resource_type: str, api_version: str) -> bool:
        return f"{resource_type}@{api_version}".lower() in self._by_resource

    def problems(self, resource: Resource) -> list[str]:
        """What is wrong with the resource's body; [] when nothing is."""
        key = f"{resource.type}@{resource.api_version}".lower()
        if key not in self._by_resource:
            return [f"no type definition for {resource.type}@{resource.api_version}"]
        types, body = self._by_resource[key]
        found: list[str] = []
        _check(types, body, resource.body, resource.symbol, found, top=True)
        return found


def _ref(link: dict[str, str]) -> int:
    assert link["$ref"].startswith("#/"), link  # one file per provider: no references across files
    return int(link["$ref"][2:])


def _check(types: Types, ref: int, value: Any, path: str, found: list[str], top: bool = False) -> None:
    if isinstance(value, Expression):
        return
    kind = types[ref]["$type"]
    checker = _CHECKERS.get(kind)
    if checker is None:
        return  # AnyType and function types accept anything
    checker(types, ref, value, path, found, top)


def _object(types: Types, ref: int, value: Any, path: str, found: list[str], top: bool) -> None:
    definition = types[ref]
    if not isinstance(value, dict):
        found.append(f"{path}: {definition.get('name', 'an object')} expected, not {value!r}")
        return
    _properties(types, definition.get("properties", {}), definition, value, path, found, top)


def _properties(
    types: Types,
    properties: dict[str, Any],
    definition: dict[str, Any],
    value: dict[str, Any],
    path: str,
    found: list[str],
    top: bool,
) -> None:
    for key, item in value.items():
        if top and key in BICEP_KEYWORDS:
            continue
        prop = properties.get(key)
        if prop is None:
            if "additionalProperties" in definition:
                _check(types, _ref(definition["additionalProperties"]), item, f"{path}.{key}", found)
                continue
            near = [name for name in properties if name.lower() == key.lower()]
            hint = f" (did you mean {near[0]}?)" if near else ""
            found.append(f"{path}.{key}: {definition.get('name')} has no such property{hint}")
            continue
        if prop["flags"] & READ_ONLY:
            found.append(f"{path}.{key}: read-only, set by Azure")
        _check(types, _ref(prop["type"]), item, f"{path}.{key}", found)
    for key, prop in properties.items():
        if prop["flags"] & REQUIRED and not prop["flags"] & READ_ONLY and key not in value:
            found.append(f"{path}.{key}: required by {definition.get('name')} but not set")


def _discriminated(types: Types, ref: int, value: Any, path: str, found: list[str], top: bool) -> None:
    definition = types[ref]
    if not isinstance(value, dict):
        found.append(f"{path}: an object expected, not {value!r}")
        return
    variant = value.get(definition["discriminator"])
    if not isinstance(variant, str) or variant not in definition["elements"]:
        variants = sorted(definition["elements"])
        found.append(f"{path}.{definition['discriminator']}: one of {variants} expected")
        return
    element = types[_ref(definition["elements"][variant])]
    properties = {**definition.get("baseProperties", {}), **element.get("properties", {})}
    _properties(types, properties, element, value, path, found, top)


def _array(types: Types, ref: int, value: Any, path: str, found: list[str], top: bool) -> None:
    definition = types[ref]
    if not isinstance(value, list):
        found.append(f"{path}: an array expected, not {value!r}")
        return
    if len(value) < definition.get("minLength", 0) or len(value) > definition.get("maxLength", len(value)):
        found.append(f"{path}: {len(value)} items is outside the length the definition allows")
    for index, item in enumerate(value):
        _check(types, _ref(definition["itemType"]), item, f"{path}[{index}]", found)


def _string(types: Types, ref: int, value: Any, path: str, found: list[str], top: bool) -> None:
    definition = types[ref]
    if not isinstance(value, str):
        found.append(f"{path}: a string expected, not {value!r}")
        return
    if not definition.get("minLength", 0) <= len(value) <= definition.get("maxLength", len(value)):
        found.append(f"{path}: {value!r} has a length outside {definition}")
    if "pattern" in definition and not re.search(definition["pattern"], value):
        found.append(f"{path}: {value!r} does not match {definition['pattern']}")


def _literal(types: Types, ref: int, value: Any, path: str, found: list[str], top: bool) -> None:
    if value != types[ref]["value"]:
        found.append(f"{path}: {types[ref]['value']!r} expected, not {value!r}")


def _union(types: Types, ref: int, value: Any, path: str, found: list[str], top: bool) -> None:
    elements = [_ref(element) for element in types[ref]["elements"]]
    literals = [types[e]["value"] for e in elements if types[e]["$type"] == "StringLiteralType"]
    if isinstance(value, str) and literals:
        if value not in literals:
            found.append(f"{path}: {value!r} is not one of the allowed values {literals}")
        return
    for element in elements:
        attempt: list[str] = []
        _check(types, element, value, path, attempt)
        if not attempt:
            return
    found.append(f"{path}: {value!r} matches none of the types this property accepts")


def _integer(types: Types, ref: int, value: Any, path: str, found: list[str], top: bool) -> None:
    definition = types[ref]
    if isinstance(value, bool) or not isinstance(value, int):
        found.append(f"{path}: an integer expected, not {value!r}")
    elif not definition.get("minValue", value) <= value <= definition.get("maxValue", value):
        found.append(f"{path}: {value} is outside {definition.get('minValue')}..{definition.get('maxValue')}")


def _boolean(types: Types, ref: int, value: Any, path: str, found: list[str], top: bool) -> None:
    if not isinstance(value, bool):
        found.append(f"{path}: true or false expected, not {value!r}")


_CHECKERS = {
    "ObjectType": _object,
    "DiscriminatedObjectType": _discriminated,
    "ArrayType": _array,
    "StringType": _string,
    "StringLiteralType": _literal,
    "UnionType": _union,
    "IntegerType": _integer,
    "BooleanType": _boolean,
}
