"""Who exists in the sandbox's Entra ID: one tenant ("contoso"), its environments, users and the app.

Identifiers are derived (uuid5) from names, so they are the same on every start: a connection saved
against the sandbox yesterday still points at the same environment and user today."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

_NAMESPACE = uuid.UUID("6f1c0c55-5d1e-4c57-9a44-2b8a3f0d7e21")
RESERVED_TENANTS = ("common", "organizations")
DEFAULT_CLIENT_ID = "sandbox-ms-client"
DEFAULT_CLIENT_SECRET = "sandbox-ms-secret"  # noqa: S105 - a published demo value, sandbox only


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


@dataclass
class Environment:
    """A Dataverse environment the sandbox hosts; its URL is f"{base_url}/env/{url_name}"."""

    id: str
    unique_name: str
    url_name: str
    friendly_name: str
    tenant_id: str


@dataclass
class Principal:
    """Who an access token speaks for, as seen by one environment (or by Global Discovery)."""

    user_id: str
    upn: str
    tenant_id: str
    app_only: bool
    client_id: str


@dataclass
class Tenant:
    id: str
    name: str  # "contoso": accepted in authority URLs like the tenant's domain would be
    display_name: str
    domain: str

    def matches(self, segment: str) -> bool:
        return segment.lower() in (self.id, self.name, self.domain)


@dataclass
class User:
    object_id: str
    upn: str
    display_name: str
    tenant_id: str
    kind: str  # "admin" (every role) or "limited" (the Web API half decides what is missing)
    systemuserids: dict[str, str] = field(default_factory=dict)  # environment url_name -> systemuserid
    # Environments (url names) where the user is disabled, or left out by the environment's security
    # group: Global Discovery does not list them (Learn, "Discover user organizations" → Limitations).
    disabled_in: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        return {
            "object_id": self.object_id,
            "upn": self.upn,
            "display_name": self.display_name,
            "tenant_id": self.tenant_id,
            "kind": self.kind,
            "systemuserids": dict(self.systemuserids),
            "disabled_in": sorted(self.disabled_in),
        }


@dataclass
class Client:
    """A registered app. Its application user in each environment acts for client-credentials tokens."""

    client_id: str
    secret: str
    display_name: str
    tenant_id: str
    application_userids: dict[str, str] = field(default_factory=dict)  # url_name -> systemuserid
    # url_name -> the application user's security role: "admin" (System Administrator, the default) or
    # "none" (created without a role: every privilege missing)
    roles: dict[str, str] = field(default_factory=dict)


class Directory:
    def __init__(self, clients: dict[str, str] | None = None) -> None:
        self.tenant = Tenant(stable_id("tenant", "contoso"), "contoso", "Contoso", "contoso.example")
        self.environments = [
            _environment(self.tenant, "contoso", "Contoso (Production)"),
            _environment(self.tenant, "contoso-sandbox", "Contoso (Sandbox)"),
        ]
        self.users = [
            self._user("admin@contoso.example", "Contoso Administrator", "admin"),
            self._user("limited@contoso.example", "Lee Limited", "limited"),
        ]
        secrets = clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
        self.clients = {cid: self._client(cid, secret) for cid, secret in secrets.items()}

    def tenant_for(self, segment: str) -> Tenant | None:
        """The tenant an authority path names; common/organizations resolve to the only tenant."""
        if segment.lower() in RESERVED_TENANTS or self.tenant.matches(segment):
            return self.tenant
        return None

    def user_by_id(self, object_id: str) -> User | None:
        return next((u for u in self.users if u.object_id == object_id), None)

    def environment_by_url_name(self, url_name: str) -> Environment | None:
        return next((e for e in self.environments if e.url_name == url_name), None)

    def _user(self, upn: str, display_name: str, kind: str) -> User:
        user = User(stable_id("user", upn), upn, display_name, self.tenant.id, kind)
        for env in self.environments:
            user.systemuserids[env.url_name] = stable_id("systemuser", env.id, upn)
        return user

    def _client(self, client_id: str, secret: str) -> Client:
        client = Client(client_id, secret, f"{client_id} (application user)", self.tenant.id)
        for env in self.environments:
            client.application_userids[env.url_name] = stable_id("applicationuser", env.id, client_id)
        return client


def _environment(tenant: Tenant, url_name: str, friendly_name: str) -> Environment:
    org_id = stable_id("organization", tenant.id, url_name)
    return Environment(org_id, "unq" + org_id.replace("-", "")[:24], url_name, friendly_name, tenant.id)
