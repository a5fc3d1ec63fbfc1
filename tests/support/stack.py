"""The whole product on one machine, in-process, with one connection onboarded through the real
services: Azurite, the sandbox Xero, the sandbox Dataverse and the local Functions host. Used by the
end-to-end tests and the benchmarks (never deployed)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from local.azurite import Azurite, start_azurite
from local.host.host import Host
from local.sandbox.dataverse import DataverseSandbox
from local.sandbox.xero import XeroSandbox

if TYPE_CHECKING:
    from shared.bootstrap import App

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENV = "contoso"
MS_CLIENT, MS_SECRET = "sandbox-ms-client", "sandbox-ms-secret"
XERO_CLIENT, XERO_SECRET = "sandbox-xero-client", "sandbox-xero-secret"


def install_app(**overrides: Any) -> App:
    """The app wired to the settings now in the environment, handed to this process's triggers (the
    in-process host's, and those tests call directly); `overrides` replace collaborators by name."""
    from shared import bootstrap
    from shared.config import load_settings

    app = bootstrap.build(load_settings(), **overrides)
    bootstrap.use(app)
    return app


def forget_app() -> None:
    """The triggers' next call builds afresh from the environment, as a new worker would."""
    from shared import bootstrap

    bootstrap.use(None)


@dataclass
class LocalStack:
    """start() → settings in os.environ, sandboxes and host running; onboard() → a ready connection."""

    prefix: str = "stack"
    azurite: Azurite | None = None
    xero_seed: str = "demo"
    work_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dxc-stack-")))
    own_azurite: bool = False
    env: dict[str, str] = field(default_factory=dict)
    host_json: Path | None = None  # e.g. a test's faster retry policy; default: the project's host.json
    xero_webhooks: bool = False  # the sandbox Xero sends its signed webhooks to the host's /api/xero/webhook

    def start(self, with_host: bool = True) -> LocalStack:
        from shared.crypto import generate_key

        if self.azurite is None:
            self.azurite, self.own_azurite = start_azurite(log_path=self.work_dir / "azurite.log"), True
        self.xero = XeroSandbox(seed=self.xero_seed).start(port=0)
        self.dataverse = DataverseSandbox(cert_dir=self.work_dir / "certs").start(port=0)
        self.env = {
            "AzureWebJobsStorage": self.azurite.connection_string,
            "TABLE_PREFIX": self.prefix,
            "INVOICE_QUEUE": f"{self.prefix}-invoices",
            "REFERENCE_QUEUE": f"{self.prefix}-reference",
            "INSTALL_QUEUE": f"{self.prefix}-install",
            "XERO_CLIENT_ID": XERO_CLIENT, "XERO_CLIENT_SECRET": XERO_SECRET,
            "XERO_LOGIN_URL": self.xero.url, "XERO_IDENTITY_URL": self.xero.url,
            "XERO_API_URL": self.xero.url,
            "MS_CLIENT_ID": MS_CLIENT, "MS_CLIENT_SECRET": MS_SECRET,
            "MS_AUTHORITY_HOST": self.dataverse.url, "DATAVERSE_DISCOVERY_URL": self.dataverse.url,
            "DEV_DATAVERSE_SANDBOX_ORIGIN": self.dataverse.url,
            "TLS_CA_BUNDLE": str(self.dataverse.ca_path),
            "TOKEN_ENCRYPTION_KEYS": generate_key("stack"),
            "SESSION_SECRET": "stack-session-secret-" + self.prefix,
            "WEBHOOK_KEY_SECRETS": "s1:stack-webhook-key-secret-" + self.prefix + "-0123456789abcdef",
            "HTTP_TIMEOUT_SECONDS": "10",
            "XERO_EVENTS_QUEUE": f"{self.prefix}-xero-events",
            "XERO_WEBHOOK_KEY": "stack-xero-webhook-key-" + self.prefix,
        }  # fmt: skip
        self._saved_env = {name: os.environ.get(name) for name in [*self.env, "PUBLIC_BASE_URL"]}
        os.environ.update(self.env)
        self.app = install_app()
        self.host: Host | None = None
        if with_host:
            self.host = Host(PROJECT_ROOT, "function_app:app", port=0, host_json=self.host_json)
            self.host.prepare()
            os.environ["PUBLIC_BASE_URL"] = self.env["PUBLIC_BASE_URL"] = self.host.url
            self.app = install_app()
            self.host.start()
            if self.xero_webhooks:
                self.subscribe_xero_webhooks()
        return self

    def subscribe_xero_webhooks(self) -> None:
        """What the Xero developer portal's Webhooks page does: the delivery URL and the signing key."""
        assert self.host is not None
        subscription = {"url": f"{self.host.url}/api/xero/webhook", "key": self.env["XERO_WEBHOOK_KEY"]}
        requests.put(f"{self.xero.url}/_sandbox/webhooks", json=subscription, timeout=10).raise_for_status()

    def stop(self) -> None:
        if self.host is not None:
            self.host.stop(grace_seconds=10)
        self.xero.stop()
        self.dataverse.stop()
        if self.own_azurite and self.azurite is not None:
            self.azurite.stop()
        for name, value in self._saved_env.items():  # leave the process as it was found
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        forget_app()

    def reset_xero_limits(self) -> None:
        """Xero's windows start again: the sandbox's, and the connector's ledger of them (the rows every
        instance shares, shared/store/xero_budget.py), which would otherwise still count the calls the
        sandbox just forgot. Between tests that share one stack."""
        from azure.data.tables import TableServiceClient

        from shared.store.xero_budget import XERO_BUDGET

        requests.post(f"{self.xero.url}/_sandbox/limits/reset", timeout=10).raise_for_status()
        service = TableServiceClient.from_connection_string(self.env["AzureWebJobsStorage"])
        table = service.create_table_if_not_exists(self.env["TABLE_PREFIX"] + XERO_BUDGET)
        for row in list(table.list_entities(select=["PartitionKey", "RowKey"])):
            table.delete_entity(row["PartitionKey"], row["RowKey"])

    # -- onboarding -----------------------------------------------------------------------------------
    def tenant_id(self, name: str = "Demo Company (NZ)") -> str:
        orgs = requests.get(f"{self.xero.url}/_sandbox/orgs", timeout=10).json()
        return str(next(o["tenantId"] for o in orgs if o["name"] == name))

    def onboard(
        self,
        account_id: str = "account-1",
        organisation: str = "Demo Company (NZ)",
        dynamics_env: str = ENV,
        install: bool = True,
        **sync: Any,
    ) -> Any:
        """A connection wired to both sandboxes, installed into Dynamics (environment `dynamics_env`:
        "contoso" or "contoso-sandbox") and active; with `install=False`, a draft connected to both."""
        from shared.connections.connections import activate, create_connection
        from shared.connections.dynamics_access import dataverse_client_for
        from shared.connections.dynamics_app_only import use_app_credentials
        from shared.connections.install_service import install_into_dynamics
        from shared.store.models import utc_now
        from shared.store.sync_settings import SyncSettings
        from shared.xero.oauth import XeroOAuth

        app = self.app
        settings, store, session = app.settings, app.connections(), app.session()
        connection = create_connection(store, account_id, "Stack connection", "trial", utc_now)
        tenant = self.tenant_id(organisation)
        grant = requests.post(
            f"{self.xero.url}/_sandbox/tokens", json={"tenants": [tenant]}, timeout=10
        ).json()
        oauth = XeroOAuth(session, settings)
        tokens = _token_set(grant)
        chosen = next(t for t in oauth.list_connections(tokens.access_token) if t.tenant_id == tenant)
        app.xero_tokens().save_grant(connection.id, tokens, chosen)
        environment = next(e for e in self.dataverse.identity.environments if e.url_name == dynamics_env)
        form = {"org_url": self.dataverse.env_url(dynamics_env), "tenant_id": environment.tenant_id,
                "client_id": MS_CLIENT, "client_secret": MS_SECRET}  # fmt: skip
        connected = use_app_credentials(store, settings, session, account_id, connection.id, form)
        assert not hasattr(connected, "message"), connected
        connection = store.require(connection.id)
        if not install:
            return connection
        client = dataverse_client_for(connection, store, settings, session)
        outcome = install_into_dynamics(store, connection, client, settings, xero_for=app.xero_for)
        assert not outcome.missing_privileges, outcome
        if sync:
            store.update(
                connection.id, lambda c: setattr(c, "sync", SyncSettings(**{**vars(c.sync), **sync}))
            )
        return activate(store, account_id, connection.id, utc_now)


def _token_set(grant: dict[str, Any]) -> Any:
    from datetime import timedelta

    from shared.store.models import utc_now
    from shared.xero.oauth import TokenSet

    return TokenSet(
        access_token=grant["access_token"],
        refresh_token=grant["refresh_token"],
        expires_at=utc_now() + timedelta(seconds=int(grant.get("expires_in", 1800))),
        scopes=tuple(str(grant.get("scope", "")).split()),
    )
