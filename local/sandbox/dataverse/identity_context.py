"""What every identity route needs: the directory, the grants, the clock and the sandbox's own URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .identity_directory import RESERVED_TENANTS, Directory, Environment, Tenant
from .identity_grants import GrantStore
from .identity_scopes import normalise_resource

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class IdentityContext:
    directory: Directory
    grants: GrantStore
    base_url_getter: Callable[[], str]
    clock: Callable[[], float]
    access_token_lifetime: int
    extra_redirect_uris: frozenset[str] = field(default_factory=frozenset)

    @property
    def base_url(self) -> str:
        return self.base_url_getter().rstrip("/")

    def environment_url(self, env: Environment) -> str:
        return f"{self.base_url}/env/{env.url_name}"

    def resources(self) -> dict[str, Environment | None]:
        """Every audience a token can be issued for; None stands for Global Discovery (the base URL)."""
        known: dict[str, Environment | None] = {normalise_resource(self.base_url): None}
        for env in self.directory.environments:
            known[normalise_resource(self.environment_url(env))] = env
        return known

    def issuer(self, tenant: Tenant) -> str:
        return f"{self.base_url}/{tenant.id}/v2.0"

    def endpoint_tenant(self, segment: str, tenant: Tenant) -> str:
        """Like Entra ID, endpoints name the tenant by id unless the authority was common/organizations."""
        return segment.lower() if segment.lower() in RESERVED_TENANTS else tenant.id

    def redirect_allowed(self, uri: str | None) -> bool:
        """Any port on this machine (the connector's local host picks one), plus configured extras."""
        if not uri:
            return False
        if uri in self.extra_redirect_uris:
            return True
        parts = urlsplit(uri)
        return (
            parts.scheme in ("http", "https") and (parts.hostname or "") in LOCAL_HOSTS and not parts.fragment
        )
