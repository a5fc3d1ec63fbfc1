"""Which addresses may be a Dataverse environment: the only hosts the connector sends a Dynamics token to.

A customer types the environment URL on the app-only form, so without this check they could make our
servers call any host (cloud metadata at 169.254.169.254, Azurite on localhost, their own server). Only
Microsoft's Dataverse host families are accepted, as a bare origin (no user info, port, path, query):

- commercial: `{org}.crm.dynamics.com` and the regional `{org}.crmN.dynamics.com` (Microsoft Learn,
  "Policies and communications" → maintenance windows table: crm, crm2–crm8, crm11, crm12, crm14–crm17;
  crm19–crm22 for the newer regions are unverified on Learn, so the whole `crmN` family of Microsoft's
  dynamics.com is accepted rather than a list that goes stale);
- US government: GCC `crm9.dynamics.com` (in the family above), GCC High `crm.microsoftdynamics.us`,
  DoD `crm.appsplatform.us`; China (21Vianet) `crm.dynamics.cn` (Microsoft Learn, "Sample: Global
  Discovery Service (C#)", the Cloud enum: globaldisco.crm9.dynamics.com, .crm.microsoftdynamics.us,
  .crm.appsplatform.us, .crm.dynamics.cn).

Development only: `DEV_DATAVERSE_SANDBOX_ORIGIN` names the local sandbox (`https://127.0.0.1:PORT`), whose
environments live at `{origin}/env/{name}`. It is a DEV_ setting, which shared/config.py ignores in Azure.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DATAVERSE_HOST = re.compile(
    rf"^{_LABEL}\.(?:crm[0-9]{{0,2}}\.dynamics\.com|crm\.microsoftdynamics\.us"
    r"|crm\.appsplatform\.us|crm\.dynamics\.cn)$"
)
_SANDBOX_PATH = re.compile(r"^/env/[a-z0-9][a-z0-9-]{0,62}$")
EXAMPLE = "https://contoso.crm.dynamics.com"


class NotDataverseUrl(ValueError):
    """The address is not one of Microsoft's Dataverse hosts (the message says what is accepted)."""


def checked_org_url(url: str, sandbox_origin: str = "") -> str:
    """The environment's URL, normalised (lower case, no trailing slash), or NotDataverseUrl."""
    text = url.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise NotDataverseUrl(_refusal()) from None
    if sandbox_origin and _is_sandbox(text, parts.path, sandbox_origin):
        return text
    host = parts.hostname or ""
    clean = (
        parts.scheme == "https"
        and "@" not in parts.netloc
        and port in (None, 443)
        and not (parts.path or parts.query or parts.fragment)
        and parts.netloc.lower() in (host, f"{host}:443")
    )
    if not clean or not DATAVERSE_HOST.match(host):
        raise NotDataverseUrl(_refusal())
    return f"https://{host}"


def _is_sandbox(text: str, path: str, sandbox_origin: str) -> bool:
    origin = sandbox_origin.rstrip("/")
    return text.startswith(origin + "/") and bool(_SANDBOX_PATH.match(path)) and text == origin + path


def _refusal() -> str:
    return (
        "Enter the environment's address as Dynamics shows it, such as "
        f"{EXAMPLE} (or crm4.dynamics.com, crm.microsoftdynamics.us …): no path after it."
    )
