"""What the connector remembers about a connection: metadata only, never invoices, customers or products.

Secret fields (marked with `secret()`) hold plaintext in memory and are encrypted in the table; they are
left out of repr so a logged Connection never shows a token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from shared.store.sync_settings import SyncSettings

ConnectionStatus = Literal["draft", "active", "disconnected"]
AuthMode = Literal["delegated", "app"]
Deployment = Literal["online", "onprem"]


def secret() -> Any:
    return field(default="", repr=False, metadata={"secret": True})


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Problem:
    """Why a side is red and what the customer should do; both empty when the side is green."""

    reason: str = ""
    action: str = ""

    @property
    def is_green(self) -> bool:
        return not self.reason


@dataclass
class XeroSide:
    tenant_id: str = ""
    organisation_name: str = ""
    connection_id: str = ""  # the `id` of GET /connections, needed to disconnect
    scopes: list[str] = field(default_factory=list)
    access_token: str = secret()
    access_token_expires_at: datetime | None = None
    refresh_token: str = secret()
    # One refresh at a time across workers and processes: see shared/store/xero_tokens.py.
    refresh_lease_until: datetime | None = None
    refresh_lease_holder: str = ""
    error: Problem = field(default_factory=Problem)


@dataclass
class DynamicsSide:
    org_url: str = ""
    organisation_id: str = ""
    environment_name: str = ""
    tenant_id: str = ""
    auth_mode: AuthMode = "delegated"
    msal_cache: str = secret()  # MSAL SerializableTokenCache, delegated mode
    app_client_id: str = ""
    app_client_secret: str = secret()  # app-only mode
    error: Problem = field(default_factory=Problem)
    webhook_registered: bool = False
    webhook_key_hash: str = ""  # HMAC-SHA256 of the key; the key itself is never stored
    webhook_key_id: str = ""  # which WEBHOOK_KEY_SECRETS entry made the hash ("": SESSION_SECRET, before)
    previous_webhook_key_hash: str = ""  # the key before the last rotation, valid until:
    previous_webhook_key_id: str = ""
    previous_webhook_key_until: datetime | None = None
    privileges_missing: list[str] = field(default_factory=list)
    # Dynamics 365 Customer Engagement (on-premises) 9.x behind AD FS (shared/dataverse/onprem_*.py): the
    # connection's own AD FS application (app_client_id / app_client_secret) signs in, delegated or app-only
    deployment: Deployment = "online"
    adfs_authority: str = ""  # https://adfs.contoso.com/adfs
    onprem_resource: str = ""  # the relying party identifier tokens are asked for
    api_version: str = ""  # Web API version the server serves ("": online's 9.2)


InstallState = Literal["", "queued", "running", "waiting", "done", "failed"]


@dataclass
class InstallProgress:
    """The last Install into Dynamics run (shared/connections/install_job.py): what the page shows while
    a queue function does the work, and what lets a redelivered message resume where the last one was."""

    run_id: str = ""  # the run every queue message of it names; a message of another run is dropped
    state: InstallState = ""
    steps_done: int = 0
    steps_total: int = 0
    step: str = ""  # the step in progress (or the last one), in words
    error: str = ""  # why the run failed, with its fix
    changes: int = 0
    problems: list[str] = field(default_factory=list)  # definitions left alone (another type)
    started_at: datetime | None = None
    updated_at: datetime | None = None
    waiting_since: datetime | None = None  # first seen keys still building
    lease_until: datetime | None = None  # one invocation at a time works on the run
    lease_holder: str = ""


@dataclass
class ReferenceRefresh:
    last_refresh_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)  # kind ("taxrates", "accounts", ...) -> rows
    last_error: str = ""


@dataclass
class Preflight:
    """The last pre-flight check (shared/connections/preflight.py): when, and each finding encoded (codes,
    numbers and ids only); findings standing turn the page's light amber."""

    checked_at: datetime | None = None
    findings: list[str] = field(default_factory=list)


@dataclass
class Connection:
    id: str
    account_id: str
    name: str = ""
    created_at: datetime = field(default_factory=utc_now)
    status: ConnectionStatus = "draft"
    plan: str = ""
    trial_ends_at: datetime | None = None
    xero: XeroSide = field(default_factory=XeroSide)
    dynamics: DynamicsSide = field(default_factory=DynamicsSide)
    sync: SyncSettings = field(default_factory=SyncSettings)
    reference: ReferenceRefresh = field(default_factory=ReferenceRefresh)
    preflight: Preflight = field(default_factory=Preflight)
    install: InstallProgress = field(default_factory=InstallProgress)
    # The red lights the owner was last e-mailed about ("" while both are green): one e-mail per change.
    alerted_lights: str = ""
    # The row version this object was read at; every write is conditional on it.
    etag: str | None = field(default=None, compare=False, metadata={"stored": False})


@dataclass
class Billing:
    name: str = ""
    address: str = ""
    tax_number: str = ""


@dataclass
class Subscription:
    """The account's Stripe subscription as last read from Stripe (see shared/billing/)."""

    customer_id: str = ""
    subscription_id: str = ""
    status: str = ""  # Stripe's: trialing, active, past_due, unpaid, canceled, incomplete, ...
    price_id: str = ""
    current_period_end: datetime | None = None  # the next charge
    cancel_at_period_end: bool = False
    payment_failed_at: datetime | None = None  # when the grace period started; None while paid up
    trial_reminded_days: int = 0  # the last "your trial ends in N days" e-mail sent (3, then 1); 0: none


@dataclass
class Account:
    id: str
    email: str
    name: str = ""
    company: str = ""
    password_hash: str = field(default="", repr=False)
    email_verified: bool = False
    created_at: datetime = field(default_factory=utc_now)
    plan: str = "trial"
    trial_ends_at: datetime | None = None
    billing: Billing = field(default_factory=Billing)
    subscription: Subscription = field(default_factory=Subscription)
    failed_sign_ins: int = 0
    last_failed_sign_in_at: datetime | None = None
    # Raised to invalidate every session cookie issued before (password reset, sign out everywhere).
    session_version: int = 0
    # The nonce of the one e-mail link of each kind still valid; cleared when the link is used.
    verify_link_nonce: str = field(default="", repr=False)
    reset_link_nonce: str = field(default="", repr=False)
    # A change of e-mail address waiting for its link (sent to the new address) to be followed.
    pending_email: str = ""
    email_link_nonce: str = field(default="", repr=False)
    etag: str | None = field(default=None, compare=False, metadata={"stored": False})
