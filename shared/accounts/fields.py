"""What a person typed into a field, judged with a message they can act on: e-mail addresses, short texts."""

from __future__ import annotations

import re

MAX_EMAIL_LENGTH = 254
MAX_TEXT_LENGTH = 200
# Deliberately simple: one @, something before it, a dotted domain after it, no spaces. The e-mail we
# send is the real check; this only catches typing mistakes with a clear message.
_EMAIL = re.compile(r"^[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")


def email_problem(email: str) -> str | None:
    if not email.strip():
        return "Enter your e-mail address."
    if len(email.strip()) > MAX_EMAIL_LENGTH or not _EMAIL.match(email.strip()):
        return "Enter an e-mail address like name@example.com."
    return None


def text_problem(value: str, what: str) -> str | None:
    if not value.strip():
        return f"Enter {what}."
    if len(value) > MAX_TEXT_LENGTH:
        return f"Keep {what} under {MAX_TEXT_LENGTH} characters."
    return None
