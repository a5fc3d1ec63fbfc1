"""Xero's Accounting API: one organisation per client, errors mapped to the one errors module.

Every write sends `summarizeErrors=false` (each element then says whether it failed and why, and a
partial success is visible) and an `Idempotency-Key` derived from business data by the caller.
Every call carries `xero-tenant-id`. Rate-limit headers are remembered per organisation so callers
can slow down before Xero says 429 (see `pacing.py`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from shared.errors import FatalError, NotFoundError, ReconnectRequired, RetriableError
from shared.xero.budget import Priority
from shared.xero.errors import classify_status, messages_of, retry_after_seconds
from shared.xero.pacing import RateGate

log = logging.getLogger(__name__)
# (rejected token or "") → (access token, tenant id); after a 401 it is given the token Xero refused
TokenProvider = Callable[[str], tuple[str, str]]
PAGE_SIZE = 100


class XeroValidationError(FatalError):
    """Xero refused the request's content; `messages` are Xero's own ValidationErrors."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages) or "Xero refused the request")
        self.messages = messages


ZERO_ID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class WriteResult:
    """One element of a PUT/POST answered with summarizeErrors=false.

    Each resource says "refused" its own way (xero_accounting.yaml 16.1.0, schemas and examples): an
    Invoice carries `HasErrors`, yet the spec's own "Invoice # must be unique" example (POST
    /Invoices/{InvoiceID}) says `HasErrors: false` beside `StatusAttributeString: ERROR`; a Contact has
    no HasErrors at all but `HasValidationErrors: true` and a zero ContactID (the duplicate-name example
    of PUT /Contacts); an Item carries `ValidationErrors` (the "Price List Item with Code ... already
    exists" example of PUT /Items) and `StatusAttributeString`. So any of these marks a failure."""

    element: dict[str, Any]

    @property
    def ok(self) -> bool:
        e = self.element
        refused = (
            e.get("HasErrors") is True
            or e.get("HasValidationErrors") is True
            or str(e.get("StatusAttributeString") or "").upper() == "ERROR"
            or bool(e.get("ValidationErrors"))
        )
        return not refused

    @property
    def errors(self) -> list[str]:
        return [str(e.get("Message", "")) for e in self.element.get("ValidationErrors") or []]


XERO_WEB_URL = "https://go.xero.com"


@dataclass(frozen=True)
class XeroUsage:
    """What Xero said is left of this organisation's limits on its last answer: X-MinLimit-Remaining (of
    60 calls in a rolling minute) and X-DayLimit-Remaining (of 5,000 in a rolling 24 hours)
    (developer.xero.com/documentation/guides/oauth2/limits, "API rate limits"; FACTS.md, Limits)."""

    minute_left: int
    day_left: int


def usage_from(headers: Mapping[str, str]) -> XeroUsage | None:
    minute, day = headers.get("X-MinLimit-Remaining", ""), headers.get("X-DayLimit-Remaining", "")
    if not (minute.strip().isdigit() and day.strip().isdigit()):
        return None
    return XeroUsage(int(minute), int(day))


def web_url_for(api_url: str) -> str:
    """Where a person opens what the API holds: go.xero.com for Xero's own API. Any other API host is the
    local sandbox Xero (XERO_API_URL in `make run`), which serves go.xero.com's paths itself, so the link
    written onto a Dynamics invoice opens the sandbox's page of that invoice."""
    host = urlsplit(api_url).hostname or ""
    return XERO_WEB_URL if host == "xero.com" or host.endswith(".xero.com") else api_url.rstrip("/")


def sandbox_pages_url(api_url: str, tenant_id: str) -> str:
    """The local sandbox Xero's page of an organisation's invoices; "" against Xero itself, whose web
    app has no address for one organisation's invoice list that we could verify."""
    web = web_url_for(api_url)
    return "" if web == XERO_WEB_URL or not tenant_id else f"{web}/_sandbox/ui/{tenant_id}/"


class XeroAccounting:
    def __init__(
        self,
        session: requests.Session,
        api_url: str,
        tokens: TokenProvider,
        timeout: float = 20.0,
        gate: RateGate | None = None,
        priority: Priority = Priority.LIVE,
    ) -> None:
        self._session = session
        self._base = f"{api_url.rstrip('/')}/api.xro/2.0"
        self.web_url = web_url_for(api_url)
        self._tokens = tokens
        self._timeout = timeout
        self._gate = gate or RateGate()
        self.priority = priority  # whose call this client makes: the organisation's budget serves LIVE first
        self.usage: XeroUsage | None = None  # from Xero's last answer (the Activity page shows it)

    def get(
        self, resource: str, params: dict[str, Any] | None = None, modified_since: datetime | None = None
    ) -> Any:
        headers = (
            {"If-Modified-Since": format_datetime(modified_since, usegmt=True)} if modified_since else {}
        )
        response = self._call("GET", resource, params=params, headers=headers)
        return {} if response.status_code == 304 else response.json()

    def get_all(self, resource: str, key: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every page of a paged list (Invoices, Contacts, ...): 100 records a page."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self.get(resource, {**(params or {}), "page": page}).get(key, [])
            found.extend(batch)
            if len(batch) < PAGE_SIZE:
                return found
            page += 1

    def write(
        self, method: str, resource: str, key: str, elements: list[dict[str, Any]], idempotency_key: str
    ) -> list[WriteResult]:
        """PUT (create) or POST (create or update) elements; one result per element, in order."""
        response = self._call(
            method,
            resource,
            params={"summarizeErrors": "false", "unitdp": 4},
            json={key: elements},
            headers={"Idempotency-Key": idempotency_key[:128]},
        )
        return [WriteResult(e) for e in response.json().get(key, [])]

    def _call(self, method: str, resource: str, **kwargs: Any) -> requests.Response:
        access_token, tenant_id = self._tokens("")
        response = self._send(method, resource, access_token, tenant_id, **kwargs)
        if response.status_code == 401:
            # Another worker may have rotated the token since we read it, or Xero no longer honours it
            # before its expiry: one more try with a newer token (from the row, else a forced refresh).
            access_token, tenant_id = self._tokens(access_token)
            response = self._send(method, resource, access_token, tenant_id, **kwargs)
        self._gate.observe(tenant_id, response.headers)
        self.usage = usage_from(response.headers) or self.usage
        return _checked(response, method, resource)

    def _send(
        self, method: str, resource: str, token: str, tenant_id: str, **kwargs: Any
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": tenant_id,
            "Accept": "application/json",
            **kwargs.pop("headers", {}),
        }
        self._gate.before_call(tenant_id, self.priority)
        try:
            with self._gate.slot(tenant_id):
                return self._session.request(
                    method, f"{self._base}/{resource}", headers=headers, timeout=self._timeout, **kwargs
                )
        except requests.Timeout:
            raise RetriableError(f"Xero did not answer {method} {resource} in time") from None
        except requests.ConnectionError:
            raise RetriableError(f"the connection to Xero dropped during {method} {resource}") from None


def _checked(response: requests.Response, method: str, resource: str) -> requests.Response:
    status = response.status_code
    if status < 300 or status == 304:
        return response
    what = f"{method} {resource}"
    outcome = classify_status(status, response.headers)
    if outcome == "defer":
        problem = response.headers.get("X-Rate-Limit-Problem", "").lower() or "rate"
        raise RetriableError(
            f"Xero's {problem} limit was reached ({what})", retry_after=retry_after_seconds(response.headers)
        )
    if outcome == "retry":
        raise RetriableError(f"Xero answered {status} to {what}")
    if outcome == "reconnect":
        raise ReconnectRequired("xero", "Xero refused the connector's sign-in or this organisation's consent")
    if status == 404:
        raise NotFoundError(f"Xero has no such record ({what})")
    try:
        messages = messages_of(response.json())
    except ValueError:
        messages = []
    raise XeroValidationError(messages or [f"Xero answered {status} to {what}"])
