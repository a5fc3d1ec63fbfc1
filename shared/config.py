"""Every setting the connector reads, read from the environment in one place.

Each field names its environment variable and its default; `SETTING_NAMES` lists them so tests can check
that infra/ and local.settings.sample.json set exactly these. A field without a default must be set.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

_REQUIRED = object()
# Development-only settings start with DEV_ and are ignored in Azure, whatever the app settings say: App
# Service sets WEBSITE_SITE_NAME / WEBSITE_INSTANCE_ID on every instance (projectkudu/kudu wiki, "Azure
# runtime environment"; Elastic's APM spec reads WEBSITE_SITE_NAME on Functions consumption/premium).
# That Flex Consumption sets them too is unverified: infra/ never sets a DEV_ setting either
# (tests/unit/test_infra_settings.py), so this is the second lock, not the only one.
DEV_PREFIX = "DEV_"
AZURE_MARKERS = ("WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME")


def _setting(env: str, default: Any = _REQUIRED) -> Any:
    return field(metadata={"env": env, "default": default})


def _not_a_setting() -> Any:
    """A field from_env fills itself; SETTING_NAMES leaves it out."""
    return field(metadata={"env": None})


class MissingSettingError(RuntimeError):
    """A setting without a default is not set: the message names it."""


# App Service hands a Key Vault reference it could not resolve (the identity's role not in effect yet, the
# secret missing) to the app as its own text: "If a reference isn't resolved properly, the reference string
# is used instead" (Learn, "Use Key Vault references as app settings", Troubleshoot). Such a value is never
# the secret, so it is read as unset (never as a key or a signing secret) and reported by the health check.
_UNRESOLVED_REFERENCE = re.compile(r"^\s*@Microsoft\.KeyVault\(", re.IGNORECASE)
UNRESOLVED_REASON = (
    "still the literal @Microsoft.KeyVault(...) reference: App Service could not read the secret (the "
    "identity's Key Vault Secrets User role not yet in effect, or the secret missing); the setting is "
    "treated as unset until a restart resolves it"
)


@dataclass(frozen=True)
class Settings:
    # Storage: a connection string locally; in Azure the identity-based
    # AzureWebJobsStorage__queueServiceUri / __tableServiceUri pair (no account keys).
    storage_connection: str = _setting("AzureWebJobsStorage", "")
    storage_queue_uri: str = _setting("AzureWebJobsStorage__queueServiceUri", "")
    storage_table_uri: str = _setting("AzureWebJobsStorage__tableServiceUri", "")
    invoice_queue: str = _setting("INVOICE_QUEUE", "invoice-push")
    reference_queue: str = _setting("REFERENCE_QUEUE", "reference-refresh")
    # Install into Dynamics continues in a queue function; while Dynamics builds the alternate keys the
    # run checks again after this many seconds (a message made invisible, no invocation held).
    install_queue: str = _setting("INSTALL_QUEUE", "dynamics-install")
    install_key_wait_seconds: int = _setting("INSTALL_KEY_WAIT_SECONDS", 20)
    reference_refresh_schedule: str = _setting("REFERENCE_REFRESH_SCHEDULE", "0 0 */6 * * *")
    table_prefix: str = _setting("TABLE_PREFIX", "dxc")
    # Xero -> Dynamics: the queue of Xero's invoice events (ids only) and the sweep's timer (NCRONTAB).
    xero_events_queue: str = _setting("XERO_EVENTS_QUEUE", "xero-events")
    sweep_schedule: str = _setting("SWEEP_SCHEDULE", "0 */5 * * * *")
    # Where the browser reaches this app (OAuth redirect URIs and links in e-mails are built from it).
    public_base_url: str = _setting("PUBLIC_BASE_URL", "http://127.0.0.1:7071")
    # Xero: login (authorize), identity (token, revocation) and api (connections, accounting) hosts.
    xero_client_id: str = _setting("XERO_CLIENT_ID", "")
    xero_client_secret: str = _setting("XERO_CLIENT_SECRET", "")
    xero_login_url: str = _setting("XERO_LOGIN_URL", "https://login.xero.com")
    xero_identity_url: str = _setting("XERO_IDENTITY_URL", "https://identity.xero.com")
    xero_api_url: str = _setting("XERO_API_URL", "https://api.xero.com")
    # The "Webhook key" of the Xero app's Webhooks page: x-xero-signature is an HMAC with it. Empty: every
    # Xero webhook is refused (401), as nothing can prove it came from Xero.
    xero_webhook_key: str = _setting("XERO_WEBHOOK_KEY", "")
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
    # "kid:secret[,kid:secret…]": HMAC keys of the stored webhook-key hashes; the first hashes new keys.
    webhook_key_secrets: str = _setting("WEBHOOK_KEY_SECRETS", "")
    # Have I Been Pwned's Pwned Passwords range API (https://api.pwnedpasswords.com in Azure, set by
    # infra/): new passwords are also checked there by k-anonymity. Empty: only the local leaked list.
    pwned_passwords_url: str = _setting("PWNED_PASSWORDS_URL", "")
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
    # Stripe Billing: the secret key (empty: billing is off), the webhook endpoint's signing secret, the API
    # host (the local stand-in's locally), the price of each paid plan ("starter:price_…,business:price_…",
    # printed by `python -m shared.billing.setup`), the signature's age limit, and the days a failed
    # payment leaves syncing on before it pauses.
    stripe_secret_key: str = _setting("STRIPE_SECRET_KEY", "")
    stripe_webhook_secret: str = _setting("STRIPE_WEBHOOK_SECRET", "")
    stripe_api_base: str = _setting("STRIPE_API_BASE", "https://api.stripe.com")
    stripe_price_ids: str = _setting("STRIPE_PRICE_IDS", "")
    stripe_webhook_tolerance_seconds: int = _setting("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
    billing_grace_days: int = _setting("BILLING_GRACE_DAYS", 7)
    # Development only: the folder the local SMTP sink writes to, shown at /dev/mailbox. Never set in Azure.
    dev_mailbox_dir: str = _setting("DEV_MAILBOX_DIR", "")
    # Development only: the local sandbox Dataverse's origin (https://127.0.0.1:PORT), the one address
    # outside Microsoft's Dataverse hosts an environment URL may have (shared/dataverse/org_url.py).
    dataverse_sandbox_origin: str = _setting("DEV_DATAVERSE_SANDBOX_ORIGIN", "")
    # Not a setting: the names of settings whose value was an unresolved Key Vault reference (read as unset).
    unresolved_references: tuple[str, ...] = _not_a_setting()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        in_azure = any(env.get(marker) for marker in AZURE_MARKERS)
        unresolved: list[str] = []
        for f in fields(cls):
            name, default = f.metadata["env"], f.metadata.get("default")
            if name is None:
                continue
            raw = None if in_azure and name.startswith(DEV_PREFIX) else env.get(name)
            if raw is not None and _UNRESOLVED_REFERENCE.match(raw):
                unresolved.append(name)
                raw = None
            if raw is None or raw == "":
                if default is _REQUIRED:
                    why = UNRESOLVED_REASON if name in unresolved else "not set"
                    raise MissingSettingError(f"setting {name} is {why}")
                values[f.name] = default
            elif isinstance(default, bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(default, float):
                values[f.name] = float(raw)
            elif isinstance(default, int):
                values[f.name] = int(raw)
            else:
                values[f.name] = raw
        return cls(**values, unresolved_references=tuple(unresolved))


SETTING_NAMES: tuple[str, ...] = tuple(f.metadata["env"] for f in fields(Settings) if f.metadata["env"])


def load_settings() -> Settings:
    """The settings in this process's environment now (shared/bootstrap.py reads them once per worker)."""
    settings = Settings.from_env(os.environ)
    if settings.unresolved_references:
        logging.getLogger(__name__).error(
            "settings %s are %s", ", ".join(settings.unresolved_references), UNRESOLVED_REASON
        )
    return settings


@functools.cache
def get_settings() -> Settings:
    """The settings, read once, for command-line tools (the functions use their app's: shared/bootstrap)."""
    return load_settings()
