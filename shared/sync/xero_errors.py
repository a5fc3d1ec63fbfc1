"""Xero's refusals in words a Dynamics user can act on (what a failed call means: shared/xero/errors.py).

The text lands in the invoice's `dxc_syncerror` column (2,000 characters), so each message keeps Xero's
own words (they name the offending value) and adds one concrete fix.
"""

from __future__ import annotations

import re

LIMIT = 2000
GENERIC_FIX = "correct the invoice (or its customer or products) in Dynamics and save it again"
# Where the connection's own settings are changed: the customer must find it from the message alone.
DEFAULTS = "under Defaults on the connection's page in the connector portal"

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
        f"number invoices ({DEFAULTS})",
    ),
    (
        r"tax ?type.*(cannot be used|not valid|invalid).*account|account.*tax ?type",
        "that tax rate is not allowed with that account: choose another tax rate or default sales account "
        f"{DEFAULTS}, or leave the tax rate empty to use the account's default",
    ),
    (
        r"account ?code|account .*(archived|does not exist)",
        f"choose another default sales account {DEFAULTS} (one that is active in Xero's chart of accounts)",
    ),
    (
        r"archived",
        "the customer's contact is archived in Xero: restore it in Xero, then save the invoice again",
    ),
    (r"tax ?type|tax ?rate", f"choose another tax rate {DEFAULTS} (one that is active in Xero)"),
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
        f"create the item in Xero, or tick 'Create products as Xero items' {DEFAULTS}",
    ),
    (r"name .*more than 50", "shorten the product name in Dynamics to 50 characters or fewer"),
    (r"email", "correct the customer's e-mail address in Dynamics"),
    (r"lock ?date|period lock", "the invoice date is before Xero's lock date: change the date in Dynamics"),
    (r"branding ?theme", f"choose another branding theme {DEFAULTS}"),
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
