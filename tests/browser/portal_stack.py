"""The portal as the browser and integration tests use it: the local Functions host in this process, on a
free port, with fresh tables, a real SMTP sink and the development mailbox switched on."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from local.azurite import Azurite
from local.host.host import Host
from local.ports import free_port
from local.smtp_sink import SmtpSink
from tests.support.stack import forget_app, install_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SESSION_SECRET = "portal-test-session-secret"
KEYS = "test1:" + "A" * 43 + "="


@dataclass
class Portal:
    url: str
    sink: SmtpSink
    mailbox: Path

    def emails(self) -> list[EmailMessage]:
        found = []
        for path in self.sink.messages():
            parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found

    def emails_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.emails() if address.lower() in str(m["To"]).lower()]

    def link_in_last_email_to(self, address: str) -> str:
        messages = self.emails_to(address)
        assert messages, f"no e-mail to {address}"
        text = messages[-1].get_body(preferencelist=("plain",))
        assert text is not None
        found = re.search(r"https?://\S+", text.get_content())
        assert found, "no link in the e-mail"
        return found.group(0)


@contextlib.contextmanager
def running_portal(azurite: Azurite, work_dir: Path) -> Iterator[Portal]:
    saved = dict(os.environ)
    mailbox = work_dir / "mailbox"
    sink = SmtpSink(mailbox).start()
    port = free_port()
    os.environ.update(
        {
            "AzureWebJobsStorage": azurite.connection_string,
            "SESSION_SECRET": SESSION_SECRET,
            "WEBHOOK_KEY_SECRETS": "p1:portal-test-webhook-key-secret-0123456789",
            "TOKEN_ENCRYPTION_KEYS": KEYS,
            "TABLE_PREFIX": "portal" + uuid.uuid4().hex[:10],
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "EMAIL_MODE": "smtp",
            "EMAIL_FROM": "Connector <no-reply@example.test>",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink.port),
            "SMTP_STARTTLS": "false",
            "SMTP_USERNAME": "",
            "DEV_MAILBOX_DIR": str(mailbox),
        }
    )
    install_app()  # built from these settings: each portal has its own mailbox and port
    host = Host(PROJECT_ROOT, "function_app:app", port=port)
    try:
        host.prepare()
        host.start()
        yield Portal(host.url, sink, mailbox)
    finally:
        host.stop(grace_seconds=5)
        sink.stop()
        os.environ.clear()
        os.environ.update(saved)
        forget_app()
