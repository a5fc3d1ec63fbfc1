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


def email_change_message(to: str, name: str, link: str, hours: int) -> EmailMessage:
    return _message(to, f"Confirm your new e-mail address for the {PRODUCT}", "email_change", name=name,
                    link=link, hours=hours)  # fmt: skip


def email_changed_notice(to: str, name: str, new_email: str) -> EmailMessage:
    return _message(to, f"Your {PRODUCT} e-mail address is being changed", "email_notice", name=name,
                    new_email=new_email)  # fmt: skip


def red_light_message(
    to: str, name: str, connection: str, lights: list[tuple[str, str, str]], link: str
) -> EmailMessage:
    """`lights`: (side, what is wrong, what to do) per red light."""
    return _message(to, f"Action needed: “{connection}” is not syncing", "red_light", name=name,
                    connection=connection, lights=lights, link=link)  # fmt: skip
