"""The portal's templates and stylesheet, rendered through shared/templating.py."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from shared import templating

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEET = Path(__file__).resolve().parent / "static" / "app.css"


def render(name: str, /, folder: str = str(TEMPLATES), **context: Any) -> str:
    return templating.render(name, folder=folder, **context)


@functools.cache
def stylesheet() -> tuple[bytes, str]:
    """The stylesheet and a short hash of it: pages link `/static/app.css?v=<hash>`, so the long cache
    lifetime never serves an old stylesheet after a deployment."""
    body = STYLESHEET.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]
