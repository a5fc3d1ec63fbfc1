"""What a failed Xero call means: its messages, its outcome for the queue, and when to try again.

The Xero client classifies its own answers (DESIGN.md: clients own their errors); shared/sync/xero_errors.py
turns the messages into words a Dynamics user can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from shared.http import retry_after


def messages_of(body: Any) -> list[str]:
    """Every ValidationErrors[].Message in a Xero reply (summarised 400 or per-element), else its Message."""
    found: list[str] = []
    _collect(body, found, depth=0)
    if not found and isinstance(body, dict):
        found = [str(body[key]) for key in ("Message", "Detail", "Title") if isinstance(body.get(key), str)][
            :1
        ]
    return found


def _collect(node: Any, found: list[str], depth: int) -> None:
    if depth > 8:  # Xero nests Elements → Invoices → LineItems at most a few levels deep
        return
    if isinstance(node, list):
        for child in node:
            _collect(child, found, depth + 1)
    elif isinstance(node, dict):
        for error in node.get("ValidationErrors") or []:
            if isinstance(error, dict) and isinstance(error.get("Message"), str):
                found.append(error["Message"])
        for key, child in node.items():
            if key != "ValidationErrors" and isinstance(child, list | dict):
                _collect(child, found, depth + 1)


Outcome = Literal["retry", "defer", "fatal", "reconnect"]


def classify_status(status: int, headers: Mapping[str, str]) -> Outcome:
    """What a failed Xero response means for the queue message.

    retry: let the queue redeliver (5xx, 408 timeouts). defer: re-enqueue after `retry_after_seconds`
    (429: a rate limit, minute or day). reconnect: consent revoked or token refused (401/403), retrying
    cannot help until the user connects Xero again. fatal: Xero refused the content (400 and other 4xx).
    """
    if status < 400:
        raise ValueError(f"HTTP {status} is not a failure")
    if status == 429:
        return "defer"
    if status in (401, 403):
        return "reconnect"
    if status >= 500 or status == 408:
        return "retry"
    return "fatal"


def retry_after_seconds(headers: Mapping[str, str], default: int = 60) -> int:
    """Retry-After in seconds (Xero sends whole seconds), at least 1; `default` when absent or unreadable."""
    seconds = retry_after(headers)
    return default if seconds is None else max(1, seconds)
