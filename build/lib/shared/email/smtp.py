"""Send through an SMTP server: the local sink in development, any relay (STARTTLS, login) elsewhere."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field

from shared.email.message import EmailError, EmailMessage, to_mime


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    timeout: float = 20.0
    ca_file: str = ""  # a CA to trust for STARTTLS besides the system's (a local relay's own CA)

    def send(self, message: EmailMessage) -> None:
        mime = to_mime(message, self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self._tls_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mime)
        except (smtplib.SMTPException, OSError) as error:
            # The reply code says what went wrong; neither the password nor the message goes in the text.
            code = getattr(error, "smtp_code", "")
            raise EmailError(
                f"SMTP {self.host}:{self.port} refused the message: {type(error).__name__} {code}"
            ) from None

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(cafile=self.ca_file)
        return context
