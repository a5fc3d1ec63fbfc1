"""Which Dataverse environments the signed-in person can use: Global Discovery's Instances list.

The token comes silently from the cache the sign-in left (scope `{discovery}/user_impersonation`), so the
customer picks an environment right after signing in without a second consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from shared.config import Settings
from shared.dataverse.auth import discovery_scope, guarded
from shared.dataverse.client_errors import raise_for_status
from shared.dataverse.tokens import DelegatedTokens

INSTANCES_PATH = "/api/discovery/v2.0/Instances"


@dataclass(frozen=True)
class Environment:
    id: str
    unique_name: str
    url_name: str
    friendly_name: str
    url: str  # the org URL: tokens are asked for `{url}/user_impersonation`
    api_url: str
    version: str
    tenant_id: str


def list_environments(
    settings: Settings, session: requests.Session, cache_blob: str, home_account_id: str
) -> list[Environment]:
    """Every enabled environment of the person's tenant, by friendly name."""
    tokens = DelegatedTokens(settings, session, cache_blob, home_account_id)
    token = tokens.token_for_scope(discovery_scope(settings))
    url = f"{settings.dataverse_discovery_url.rstrip('/')}{INSTANCES_PATH}"
    response = guarded(
        "reach Dataverse Global Discovery",
        lambda: session.get(
            url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=settings.http_timeout_seconds,
        ),
    )
    raise_for_status(response, "list your Dynamics environments")
    rows = response.json().get("value", [])
    environments = [_environment(row) for row in rows if row.get("State", 0) == 0]
    return sorted(environments, key=lambda e: e.friendly_name.lower())


def _environment(row: dict[str, Any]) -> Environment:
    return Environment(
        id=str(row.get("Id", "")),
        unique_name=str(row.get("UniqueName", "")),
        url_name=str(row.get("UrlName", "")),
        friendly_name=str(row.get("FriendlyName") or row.get("UrlName") or ""),
        url=str(row.get("Url", "")).rstrip("/"),
        api_url=str(row.get("ApiUrl") or row.get("Url") or "").rstrip("/"),
        version=str(row.get("Version", "")),
        tenant_id=str(row.get("TenantId", "")),
    )
