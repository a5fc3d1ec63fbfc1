"""The e-mails the portal sends, each with a plain-text and an HTML body (templates in ./templates)."""

from __future__ import annotations

from pathlib import Path

from shared.email.message import EmailMessage
from shared.templating import render

TEMPLATES = str(Path(__file__).resolve().parent / "templates")
PRODUCT = "Dynamics to Xero connector"


def _message(to: str, subject: str, template: str, **context: object) -> EmailMessage:
    context = {"product": PRODUCT, **context}
    return EmailMessage(
        to=to,
        subject=subject,
        text=render(f"{template}.txt", folder=TEMPLATES, **context),
        html=render(f"{template}.html", folder=TEMPLATES, **context),
    )


def verification_message(to: str, link: str, hours: int) -> EmailMessage:
    """No text the person typed (their name) goes in: anyone can register any address, and a name would
    let them write to it from our domain (issue 16)."""
    return _message(to, f"Confirm your e-mail address for the {PRODUCT}", "verify", link=link, hours=hours)


def reset_message(to: str, link: str, minutes: int) -> EmailMessage:
    return _message(to, f"Reset your {PRODUCT} password", "reset", link=link, minutes=minutes)
