"""Every setting the connector reads, read from the environment in one place.

Each field names its environment variable and its default; `SETTING_NAMES` lists them so tests can check
that infra/ and local.settings.sample.json set exactly these. A field without a default must be set.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

_REQUIRED = object()
# Development-only settings start with DEV_ and are ignored in Azure, whatever the app settings say: App
# Service and Functions set WEBSITE_INSTANCE_ID / WEBSITE_SITE_NAME on every instance (Learn, "App settings
# reference for Azure Functions" / "Environment variables and app settings in Azure App Service").
DEV_PREFIX = "DEV_"
AZURE_MARKERS = ("WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME")


def _setting(env: str, default: Any = _REQUIRED) -> Any:
    return field(metadata={"env": env, "default": default})


class MissingSettingError(RuntimeError):
    """A setting without a default is not set: the message names it."""


@dataclass(frozen=True)
class Settings:
    # Storage: a connection string locally; in Azure the identity-based
    # AzureWebJobsStorage__queueServiceUri / __tableServiceUri pair (no account keys).
    storage_connection: str = _setting("AzureWebJobsStorage", "")
    storage_queue_uri: str = _setting("AzureWebJobsStorage__queueServiceUri", "")
    storage_table_uri: str = _setting("AzureWebJobsStorage__tableServiceUri", "")
    invoice_queue: str = _setting("INVOICE_QUEUE", "invoice-push")
    reference_queue: str = _setting("REFERENCE_QUEUE", "reference-refresh")
    reference_refresh_schedule: str = _setting("REFERENCE_REFRESH_SCHEDULE", "0 0 */6 * * *")
    table_prefix: str = _setting("TABLE_PREFIX", "dxc")
    # Where the browser reaches this app (OAuth redirect URIs and links in e-mails are built from it).
    public_base_url: str = _setting("PUBLIC_BASE_URL", "http://127.0.0.1:7071")
    # Xero: login (authorize), identity (token, revocation) and api (connections, accounting) hosts.
    xero_client_id: str = _setting("XERO_CLIENT_ID", "")
    xero_client_secret: str = _setting("XERO_CLIENT_SECRET", "")
    xero_login_url: str = _setting("XERO_LOGIN_URL", "https://login.xero.com")
    xero_identity_url: str = _setting("XERO_IDENTITY_URL", "https://identity.xero.com")
    xero_api_url: str = _setting("XERO_API_URL", "https://api.xero.com")
    # Microsoft Entra ID and Dataverse.
    ms_client_id: str = _setting("MS_CLIENT_ID", "")
    ms_client_secret: str = _setting("MS_CLIENT_SECRET", "")
    ms_authority_host: str = _setting("MS_AUTHORITY_HOST", "https://login.microsoftonline.com")
    ms_tenant: str = _setting("MS_TENANT", "organizations")
    dataverse_discovery_url: str = _setting("DATAVERSE_DISCOVERY_URL", "https://globaldisco.crm.dynamics.com")
    # A CA bundle to trust (the local sandboxes' certificate); empty means the system's store.
    tls_ca_bundle: str = _setting("TLS_CA_BUNDLE", "")
    # Secrets: "kid:base64key" pairs, comma separated, the first one encrypts; a random signing secret.
    token_encryption_keys: str = _setting("TOKEN_ENCRYPTION_KEYS", "")
    session_secret: str = _setting("SESSION_SECRET", "")
    http_timeout_seconds: float = _setting("HTTP_TIMEOUT_SECONDS", 20.0)
    # Xero's rate window (a minute). Only a sandbox running on a faster clock sets it shorter.
    xero_minute_seconds: float = _setting("XERO_MINUTE_SECONDS", 60.0)
    # E-mail (verification and reset links): "smtp", or "acs" (Azure Communication Services, REST API).
    email_mode: str = _setting("EMAIL_MODE", "smtp")
    email_from: str = _setting("EMAIL_FROM", "no-reply@localhost")
    smtp_host: str = _setting("SMTP_HOST", "127.0.0.1")
    smtp_port: int = _setting("SMTP_PORT", 7025)
    smtp_username: str = _setting("SMTP_USERNAME", "")
    smtp_password: str = _setting("SMTP_PASSWORD", "")
    smtp_starttls: bool = _setting("SMTP_STARTTLS", False)
    acs_endpoint: str = _setting("ACS_ENDPOINT", "")
    acs_access_key: str = _setting("ACS_ACCESS_KEY", "")
    # Development only: the folder the local SMTP sink writes to, shown at /dev/mailbox. Never set in Azure.
    dev_mailbox_dir: str = _setting("DEV_MAILBOX_DIR", "")
    # Development only: the local sandbox Dataverse's origin (https://127.0.0.1:PORT), the one address
    # outside Microsoft's Dataverse hosts an environment URL may have (shared/dataverse/org_url.py).
    dataverse_sandbox_origin: str = _setting("DEV_DATAVERSE_SANDBOX_ORIGIN", "")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        in_azure = any(env.get(marker) for marker in AZURE_MARKERS)
        for f in fields(cls):
            name, default = f.metadata["env"], f.metadata["default"]
            raw = None if in_azure and name.startswith(DEV_PREFIX) else env.get(name)
            if raw is None or raw == "":
                if default is _REQUIRED:
                    raise MissingSettingError(f"setting {name} is not set")
                values[f.name] = default
            elif isinstance(default, bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(default, float):
                values[f.name] = float(raw)
            elif isinstance(default, int):
                values[f.name] = int(raw)
            else:
                values[f.name] = raw
        return cls(**values)


SETTING_NAMES: tuple[str, ...] = tuple(f.metadata["env"] for f in fields(Settings))


@functools.cache
def get_settings() -> Settings:
    """The settings of this worker process, read once."""
    return Settings.from_env(os.environ)
