"""Development only: read the .eml files the local SMTP sink (local/smtp_sink.py) writes, for /dev/mailbox.

Served only when DEV_MAILBOX_DIR is set, which local.settings.sample.json does and Azure never does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}\.eml$")
_LINK = re.compile(r"https?://[^\s<>\"']+")
SHOWN = 100


@dataclass(frozen=True)
class StoredMessage:
    name: str
    received: str
    sender: str
    to: str
    subject: str
    text: str
    html: str

    @property
    def links(self) -> list[str]:
        return list(dict.fromkeys(_LINK.findall(self.text)))


def _read(path: Path) -> StoredMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(parsed, EmailMessage)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    received = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return StoredMessage(
        name=path.name,
        received=received,
        sender=str(parsed.get("From", "")),
        to=str(parsed.get("To", "")),
        subject=str(parsed.get("Subject", "(no subject)")),
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else "",
    )


def list_messages(folder: str) -> list[StoredMessage]:
    """The newest messages first."""
    root = Path(folder)
    if not root.is_dir():
        return []
    files = sorted(root.glob("*.eml"), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return [_read(path) for path in files[:SHOWN]]


def find_message(folder: str, name: str) -> StoredMessage | None:
    """The message called `name`; None for unknown names and for anything that is not a plain file name."""
    if not _NAME.match(name):
        return None
    path = Path(folder) / name
    return _read(path) if path.is_file() else None
