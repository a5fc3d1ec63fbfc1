"""Stripe's request encoding: application/x-www-form-urlencoded with bracketed keys for nesting
(`metadata[account]=a`, `line_items[0][price]=p`, `lookup_keys[0]=k`), as stripe-python's
`_api_encode` writes them and https://docs.stripe.com/api (request bodies) describes. Every value
stays a string; the routes convert what they read."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PART = re.compile(r"\[([^\]]*)\]")


class FormError(ValueError):
    pass


def parse(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        path = [head] + (_PART.findall("[" + rest) if rest else [])
        _put(root, path, value)
    return {k: _lists(v) for k, v in root.items()}


def _put(node: dict[str, Any], path: list[str], value: str) -> None:
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise FormError(f"conflicting values for {part!r}")
        node = child
    last = path[-1] if path[-1] != "" else str(len(node))
    node[last] = value


def _lists(value: Any) -> Any:
    """A dict keyed 0..n-1 is a list (`items[0][price]`)."""
    if not isinstance(value, dict):
        return value
    converted = {k: _lists(v) for k, v in value.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def truthy(value: Any) -> bool:
    return str(value).lower() == "true"
