"""The SMTP sender against a real SMTP server (aiosmtpd on a free port): plain, STARTTLS, and login."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from local.ports import free_port
from local.sandbox.dataverse.tls import make_certificate
from local.smtp_sink import SmtpSink
from shared.email.acs import sign_request
from shared.email.message import EmailError, EmailMessage
from shared.email.messages import reset_message, verification_message
from shared.email.smtp import SmtpSender

SENDER = "Connector <no-reply@example.test>"
MESSAGE = EmailMessage(
    to="ana@example.com",
    subject="Confirm your address",
    text="Open https://portal.example/verify?token=abc",
    html='<p><a href="https://portal.example/verify?token=abc">Confirm</a></p>',
)


@dataclass
class Recorder:
    messages: list[MimeMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        assert isinstance(parsed, MimeMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _accept_ana(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"ana" and data.password == b"s3cret-pass"
    return AuthResult(success=ok)


@pytest.fixture
def plain_server() -> Iterator[tuple[Controller, Recorder]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, recorder
    controller.stop()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Controller, Recorder, Path]]:
    certificate = make_certificate(tmp_path / "certs")
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=certificate.ssl_context(),
        require_starttls=True,
        authenticator=_accept_ana,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    yield controller, recorder, certificate.ca_path
    controller.stop()


def test_a_message_arrives_with_subject_from_to_text_and_html(
    plain_server: tuple[Controller, Recorder],
) -> None:
    controller, recorder = plain_server

    SmtpSender("127.0.0.1", controller.port, SENDER, timeout=5).send(MESSAGE)

    [received] = recorder.messages
    assert received["Subject"] == "Confirm your address"
    assert received["From"] == SENDER and received["To"] == "ana@example.com"
    assert received["Message-ID"].endswith("@example.test>")
    assert recorder.envelopes == [("no-reply@example.test", ["ana@example.com"])]
    text, html = received.get_body(("plain",)), received.get_body(("html",))
    assert text is not None and "verify?token=abc" in text.get_content()
    assert html is not None and '<a href="https://portal.example/verify?token=abc">' in html.get_content()


def test_starttls_and_login_deliver_when_configured(tls_server: tuple[Controller, Recorder, Path]) -> None:
    controller, recorder, ca = tls_server
    sender = SmtpSender(
        "127.0.0.1", controller.port, SENDER, "ana", "s3cret-pass", starttls=True, timeout=5, ca_file=str(ca)
    )

    sender.send(MESSAGE)

    assert [m["Subject"] for m in recorder.messages] == ["Confirm your address"]


def test_a_server_that_demands_starttls_refuses_a_plain_sender(
    tls_server: tuple[Controller, Recorder, Path],
) -> None:
    controller, recorder, _ = tls_server

    with pytest.raises(EmailError) as refused:
        SmtpSender("127.0.0.1", controller.port, SENDER, "ana", "s3cret-pass", timeout=5).send(MESSAGE)

    assert recorder.messages == [] and "s3cret-pass" not in str(refused.value)


def test_a_wrong_password_is_an_email_error_that_does_not_repeat_it(
    tls_server: tuple[Controller, Recorder, Path],
) -> None:
    controller, recorder, ca = tls_server
    sender = SmtpSender(
        "127.0.0.1", controller.port, SENDER, "ana", "wrong-pass", starttls=True, timeout=1, ca_file=str(ca)
    )

    with pytest.raises(EmailError) as refused:
        sender.send(MESSAGE)

    assert recorder.messages == [] and "wrong-pass" not in str(refused.value)


def test_an_untrusted_certificate_is_refused(tls_server: tuple[Controller, Recorder, Path]) -> None:
    controller, recorder, _ = tls_server
    sender = SmtpSender("127.0.0.1", controller.port, SENDER, "ana", "s3cret-pass", starttls=True, timeout=5)

    with pytest.raises(EmailError):
        sender.send(MESSAGE)

    assert recorder.messages == []


def test_nobody_listening_is_an_email_error() -> None:
    with pytest.raises(EmailError):
        SmtpSender("127.0.0.1", free_port(), SENDER, timeout=2).send(MESSAGE)


def test_the_sink_keeps_the_portal_messages_as_eml_files(tmp_path: Path) -> None:
    sink = SmtpSink(tmp_path / "mailbox").start()
    try:
        sender = SmtpSender("127.0.0.1", sink.port, SENDER, timeout=5)
        sender.send(verification_message("ana@example.com", "http://x/verify?token=t1", 24))
        sender.send(reset_message("ana@example.com", "http://x/reset?token=t2", 60))
    finally:
        sink.stop()

    parsed = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in sink.messages()]
    assert len(parsed) == 2
    verify_html = parsed[0].get_body(("html",))
    verify_text = parsed[0].get_body(("plain",))
    assert verify_html is not None and verify_text is not None
    assert "Hello," in verify_text.get_content() and "Hello," in verify_html.get_content()
    assert "24 hours" in verify_text.get_content()
    assert "60 minutes" in str(parsed[1].get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_acs_requests_are_signed_over_verb_path_date_host_and_body() -> None:
    key = base64.b64encode(b"k" * 32).decode()
    body = b'{"x":1}'
    date = "Sat, 01 Mar 2026 09:00:00 GMT"

    headers = sign_request("POST", "https://res.communication.azure.com/emails:send?api-version=2023-03-31",
                           body, key, date)  # fmt: skip

    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    to_sign = f"POST\n/emails:send?api-version=2023-03-31\n{date};res.communication.azure.com;{content_hash}"
    expected = base64.b64encode(hmac.new(b"k" * 32, to_sign.encode(), hashlib.sha256).digest()).decode()
    assert headers["x-ms-content-sha256"] == content_hash and headers["x-ms-date"] == date
    assert headers["Authorization"] == (
        f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={expected}"
    )
