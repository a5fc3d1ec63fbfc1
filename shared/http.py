"""HTTP sessions for the outbound clients (Xero, Microsoft, Dataverse), and the one reading of Retry-After.

`trust_env` is off so that proxy and CA variables of the machine (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE)
cannot silently override `verify` (psf/requests#3829); the CA bundle comes from TLS_CA_BUNDLE when set
(the local sandboxes' CA), else the certifi store."""

from __future__ import annotations

from collections.abc import Mapping

import requests
from requests.adapters import HTTPAdapter

from shared import __version__
from shared.config import Settings

USER_AGENT = f"dynamics-xero-connector/{__version__}"


# Kept connections per host: at least the invocations a worker runs at once (host.json's batchSize 16 +
# newBatchThreshold 8), or each extra one pays a new TCP + TLS handshake.
POOL_SIZE = 32


def retry_after(headers: Mapping[str, str]) -> int | None:
    """Retry-After's delay in seconds, None when absent or unreadable (the caller picks its own default).

    RFC 9110 §10.2.3: delay-seconds is a non-negative whole number. Xero and Dataverse send seconds
    (FACTS.md); an HTTP-date, a fraction, "nan" or a sign is read as unreadable rather than guessed at."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() and text.isascii() and len(text) < 10 else None


def make_session(settings: Settings, pool_size: int = POOL_SIZE) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    if settings.tls_ca_bundle:
        session.verify = settings.tls_ca_bundle
    session.headers["User-Agent"] = USER_AGENT
    # No automatic retries: the queue owns retrying, with the delay the server asked for.
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
