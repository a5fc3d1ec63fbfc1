"""The sender the settings ask for: EMAIL_MODE=smtp (default) or acs."""

from __future__ import annotations

from email.utils import parseaddr

from shared.config import Settings
from shared.email.acs import AcsSender
from shared.email.message import EmailSender
from shared.email.smtp import SmtpSender


def sender_from_settings(settings: Settings) -> EmailSender:
    mode = settings.email_mode.strip().lower()
    if mode == "acs":
        if not settings.acs_endpoint or not settings.acs_access_key:
            raise RuntimeError("EMAIL_MODE=acs needs ACS_ENDPOINT and ACS_ACCESS_KEY")
        address = parseaddr(settings.email_from)[1]
        return AcsSender(
            settings.acs_endpoint, settings.acs_access_key, address, settings.http_timeout_seconds
        )
    if mode == "smtp":
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.email_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout=settings.http_timeout_seconds,
            ca_file=settings.tls_ca_bundle,
        )
    raise RuntimeError(f"EMAIL_MODE must be smtp or acs, not {settings.email_mode!r}")
