"""Reading what the browser sent: form bodies, `next=` targets, the client's address (what a person typed
into a field is judged in shared/accounts/fields.py)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

MAX_FORM_BYTES = 64 * 1024


def parse_form(body: bytes | None) -> dict[str, str]:
    """application/x-www-form-urlencoded → first value per field; anything unreadable reads as empty."""
    if not body or len(body) > MAX_FORM_BYTES:
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    form: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True, max_num_fields=50):
        form.setdefault(key, value)
    return form


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site ("/connections?x=1"), else None.

    Refused: absolute URLs, scheme-relative "//evil.example", backslashes (browsers read "/\\evil" as
    "//evil"), control characters and anything that does not start with exactly one "/"."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def client_ip(headers: Mapping[str, str]) -> str:
    """The caller's address for the per-IP guard. Azure's front end appends the address it saw to
    X-Forwarded-For ("ip:port"), so the last entry is the one a client cannot forge."""
    forwarded = headers.get("x-forwarded-for") or headers.get("x-client-ip") or ""
    last = forwarded.split(",")[-1].strip()
    if last.startswith("["):  # [IPv6]:port
        return last[1:].split("]", 1)[0] or "unknown"
    if last.count(":") == 1:  # IPv4:port
        last = last.split(":", 1)[0]
    return last or "unknown"
