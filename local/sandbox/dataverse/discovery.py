"""Global Discovery: GET /api/discovery/v2.0/Instances lists the environments of the signed-in user's
tenant. The token's audience is the sandbox's base URL (DATAVERSE_DISCOVERY_URL), asked for with scope
`{base}/user_impersonation`.

Sandbox choices: only delegated (user) tokens are accepted, so the connector never depends on app-only
discovery; errors use Dataverse's `{"error": {"code", "message"}}` body plus a WWW-Authenticate header."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from .identity_context import IdentityContext
from .identity_directory import Environment, Principal, stable_id

PATH = re.compile(r"^/api/discovery/v2\.0/Instances(?:\((?P<key>[^)]*)\))?/?$")
VERSION = "9.2.25044.00180"
Authenticate = Callable[[str | None, str], Principal | None]


def handle_discovery(request: Request, ctx: IdentityContext, authenticate: Authenticate) -> Response | None:
    match = PATH.match(request.path)
    if match is None:
        return None
    if request.method != "GET":
        return _error(405, "MethodNotAllowed", "Only GET is supported on Instances.")
    principal = authenticate(request.headers.get("Authorization"), ctx.base_url)
    if principal is None:
        return _unauthorized(ctx, "Bearer token is missing, invalid or expired.")
    if principal.app_only:
        return _unauthorized(ctx, "Global Discovery needs a delegated (user) token.")
    user = next((u for u in ctx.directory.users if u.upn == principal.upn), None)
    is_admin = user is not None and user.kind == "admin"
    # Learn, "Discover user organizations" → Limitations: nothing is returned for an environment where the
    # user's account is disabled or its security group leaves the user out (a user with no environment
    # left gets an empty list, not an error)
    hidden = user.disabled_in if user is not None else set()
    rows = [
        _instance(ctx, env, is_admin)
        for env in ctx.directory.environments
        if env.tenant_id == principal.tenant_id and env.url_name not in hidden
    ]
    context_url = f"{ctx.base_url}/api/discovery/v2.0/$metadata#Instances"
    key = match.group("key")
    if key is None:
        return _json(200, {"@odata.context": context_url, "value": [_select(r, request) for r in rows]})
    row = next((r for r in rows if _matches(r, key)), None)
    if row is None:
        return _error(404, "0x80040217", f"Instance with key {key} does not exist.")
    return _json(200, {"@odata.context": f"{context_url}/$entity", **_select(row, request)})


def _instance(ctx: IdentityContext, env: Environment, is_admin: bool) -> dict[str, Any]:
    url = ctx.environment_url(env)
    return {
        "Id": env.id,
        "UniqueName": env.unique_name,
        "UrlName": env.url_name,
        "FriendlyName": env.friendly_name,
        "State": 0,  # 0 = enabled
        "Version": VERSION,
        "Url": url,
        "ApiUrl": url,  # the sandbox serves the Web API under the environment URL itself
        "LastUpdated": "2025-01-01T00:00:00Z",
        "Region": "NA",
        "TenantId": env.tenant_id,
        "EnvironmentId": stable_id("powerplatform-environment", env.id),
        "DatacenterId": stable_id("datacenter", "sandbox"),
        "DatacenterName": None,
        "Purpose": "",
        "IsUserSysAdmin": is_admin,
        "OrganizationType": 0,
        "TrialExpirationDate": None,
    }


def _matches(row: dict[str, Any], key: str) -> bool:
    """Instances(<guid>), Instances(Id=<guid>) or Instances(UniqueName='name')."""
    name, _, value = key.rpartition("=")
    value = value.strip("'")
    if name in ("", "Id"):
        return str(row["Id"]) == value
    return name == "UniqueName" and row["UniqueName"] == value


def _select(row: dict[str, Any], request: Request) -> dict[str, Any]:
    wanted = [c.strip() for c in request.args.get("$select", "").split(",") if c.strip()]
    return {k: v for k, v in row.items() if k in wanted} if wanted else row


def _unauthorized(ctx: IdentityContext, message: str) -> Response:
    response = _error(401, "Unauthorized", message)
    tenant = ctx.directory.tenant
    response.headers["WWW-Authenticate"] = (
        f'Bearer authorization_uri="{ctx.base_url}/{tenant.id}/oauth2/v2.0/authorize", '
        f'resource_id="{ctx.base_url}"'
    )
    return response


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"error": {"code": code, "message": message}})


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")
