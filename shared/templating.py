"""Jinja2 environments, one per template folder, built once per worker on first use (jinja2 is not
imported at start). The portal's pages (shared/web/templating.py) and the e-mails (shared/email) use it.

Autoescape is on for every template except .txt (plain-text e-mail bodies), so anything a user typed is
shown as text, never as markup."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment


@functools.cache
def environment(folder: str) -> Environment:
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


def render(name: str, /, folder: str, **context: Any) -> str:
    return environment(folder).get_template(name).render(**context)
