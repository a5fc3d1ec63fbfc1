"""What an e-mail is to the rest of the connector, and what a sender must do with one."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

from shared.errors import RetriableError


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message over for delivery, or raise EmailError."""


class EmailError(RetriableError):
    """The message could not be handed over; the text names the server, never a credential or a link."""


def to_mime(message: EmailMessage, sender: str) -> MimeMessage:
    """multipart/alternative: plain text first, HTML second (mail programs show the last they can)."""
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mime["Message-ID"] = make_msgid(domain=domain)
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime
