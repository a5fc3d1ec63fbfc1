"""Xero's refusals in words a Dynamics user can act on, and what a failed HTTP call means for the queue.

The text lands in the invoice's `dxc_syncerror` column (2,000 characters), so each message keeps Xero's
own words (they name the offending value) and adds one concrete fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

LIMIT = 2000
GENERIC_FIX = "correct the invoice (or its customer or products) in Dynamics and save it again"

# (pattern, fix): first match wins; `{currency}` is filled from the message.
_KNOWN: tuple[tuple[str, str], ...] = (
    (
        r"already assigned to another contact|contact name .* must be unique",
        "another Xero contact already has this name: rename the customer in Dynamics, or put that Xero "
        "contact's id in the customer's Xero Contact ID column",
    ),
    (
        r"invoice ?# must be unique|invoice number .* (already|must be unique)",
        "Xero already has an invoice with this number: change the invoice number in Dynamics, or let Xero "
        "number invoices in the connection settings",
    ),
    (
        r"archived",
        "the customer's contact is archived in Xero: restore it in Xero, then save the invoice again",
    ),
    (
        r"tax ?type.*(cannot be used|not valid|invalid).*account|account.*tax ?type",
        "that tax rate is not allowed with that account: pick another tax type or account in the connection "
        "settings, or leave the tax type empty to use the account's default",
    ),
    (
        r"account code .*not (a )?valid|accountcode .*not (a )?valid|account .*(archived|does not exist)",
        "pick an active sales account code from Xero's Chart of Accounts in the connection settings",
    ),
    (r"tax ?type", "pick a tax type from Xero's tax rates in the connection settings"),
    (
        r"not subscribed to currency|currency .*(not enabled|not (a )?valid)",
        "enable {currency} in Xero's Currencies settings, or invoice in the organisation's base currency",
    ),
    (
        r"payment|credit note|not of valid status for modification|cannot be edited|not editable",
        "the invoice has payments or is locked in Xero: remove the payment in Xero, or change it in Xero",
    ),
    (r"code .*(more than 30|too long)", "shorten the product number in Dynamics to 30 characters or fewer"),
    (
        r"item code .*(not valid|does not exist|could not be found)",
        "create the item in Xero, or turn on 'create missing items' in the connection settings",
    ),
    (r"name .*more than 50", "shorten the product name in Dynamics to 50 characters or fewer"),
    (r"email", "correct the customer's e-mail address in Dynamics"),
    (r"lock ?date|period lock", "the invoice date is before Xero's lock date: change the date in Dynamics"),
    (r"branding ?theme", "pick an existing branding theme in the connection settings"),
    (r"due ?date", "set a due date on or after the invoice date in Dynamics"),
)


def explain(messages: list[str]) -> str:
    """'Xero says: <message> — fix: <what to do>' per distinct message, at most 2,000 characters."""
    lines: list[str] = []
    for message in dict.fromkeys(m.strip() for m in messages if m and m.strip()):
        line = f"Xero says: {message} — fix: {_fix(message)}"
        if lines and len("\n".join([*lines, line])) > LIMIT:
            break
        lines.append(line)
    if not lines:
        return f"Xero refused the invoice without saying why — fix: {GENERIC_FIX}"
    text = "\n".join(lines)
    return text if len(text) <= LIMIT else text[: LIMIT - 1] + "…"


def _fix(message: str) -> str:
    for pattern, fix in _KNOWN:
        if re.search(pattern, message, re.IGNORECASE):
            currency = re.search(r"\b[A-Z]{3}\b(?!.*\b[A-Z]{3}\b)", message)
            return fix.replace("{currency}", currency.group(0) if currency else "the currency")
    return GENERIC_FIX


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
    for name, value in headers.items():
        if name.lower() == "retry-after":
            text = str(value).strip()
            return max(1, int(text)) if text.isdigit() and len(text) < 10 else default
    return default
