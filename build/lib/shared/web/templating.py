"""Jinja2 environments, built once per worker on first use (jinja2 is not imported at start).

Autoescape is on for every template except .txt (plain-text e-mail bodies), so anything a user typed is
shown as text, never as markup."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEET = Path(__file__).resolve().parent / "static" / "app.css"


@functools.cache
def environment(folder: str = str(TEMPLATES)) -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(
            enabled_extensions=("html", "xml"), disabled_extensions=("txt",), default=True
        ),
        undefined=StrictUndefined,  # a misspelt variable fails the test instead of rendering blank
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, /, folder: str = str(TEMPLATES), **context: Any) -> str:
    return environment(folder).get_template(name).render(**context)


@functools.cache
def stylesheet() -> tuple[bytes, str]:
    """The stylesheet and a short hash of it: pages link `/static/app.css?v=<hash>`, so the long cache
    lifetime never serves an old stylesheet after a deployment."""
    body = STYLESHEET.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]
