"""Dataverse's HTTP answers as the connector's two kinds of failure (shared.errors).

Only Dataverse's own `error.message` is quoted (it names a missing privilege or an invalid column, never
a token); the request's headers and URL query are never put into an exception.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import requests

from shared.dataverse import schema
from shared.errors import ConcurrencyError, FatalError, NotFoundError, ReconnectRequired, RetriableError
from shared.http import retry_after

log = logging.getLogger(__name__)

MAX_MESSAGE = 1000
NOT_A_MEMBER = "0x80072560"  # "The user is not a member of the organization." (HTTP 403)
# "Resource not found for the segment '{name}'." (HTTP 404): a path segment the service does not know, an
# entity set or an operation (Learn, "Troubleshoot Dataverse Web API client errors").
UNKNOWN_SEGMENT = "0x80060888"
_SEGMENT = re.compile(r"segment '([^']+)'")
# Learn, "Manage application users in the Power Platform admin center": where an administrator creates the
# application user of an app, with a security role, environment by environment.
APPLICATION_USERS_ADMIN = "https://admin.powerplatform.microsoft.com/environments"
APPLICATION_USERS_HELP = "https://learn.microsoft.com/power-platform/admin/manage-application-users"


# Learn, "Troubleshoot Dataverse Web API client errors": a $select (also inside an $expand) naming a column
# the table lacks is HTTP 400, code "0x0", "Could not find a property named '{property name}' on type
# 'Microsoft.Dynamics.CRM.{entity name}'." The code is not specific, so the message is what is matched.
_UNKNOWN_PROPERTY = re.compile(
    r"Could not find a property named '([^']+)' on type 'Microsoft\.Dynamics\.CRM\."
)


class MissingColumn(FatalError):
    """A column this version of the connector reads and writes is not in the environment: it was
    installed by an earlier version (or someone deleted the column). Install again adds it."""

    def __init__(self, column: str) -> None:
        super().__init__(
            f"Dynamics lacks column {column} that this version of the connector writes — fix: Install into "
            "Dynamics again on the connection's page"
        )
        self.column = column


class NoApplicationUser(ReconnectRequired):
    """An app-only token for an environment where nobody created the app's application user."""

    def __init__(self) -> None:
        super().__init__(
            "dynamics",
            "this Dynamics environment has no application user for the connector's app — an administrator "
            "adds it in the Power Platform admin center (Environments → the environment → Settings → Users + "
            "permissions → Application users → New app user) with a security role",
        )


class UnknownSegment(NotFoundError):
    """Dataverse does not know a segment of the path (an entity set, function or action)."""

    def __init__(self, message: str, segment: str) -> None:
        super().__init__(message)
        self.segment = segment


class ServerRefused(FatalError):
    """An answer without Dataverse's error body: the web server in front refused the request itself.

    On-premises that is IIS: request filtering refuses a URL over 4,096 bytes, a query string over 2,048 or
    a body over 30,000,000 bytes (its defaults) with a bare HTTP 404 — the substatus (404.14, 404.15,
    413.1) goes to IIS's log only (Learn, IIS configuration reference, "Request Limits <requestLimits>").
    Reading that 404 as "the row is gone" would lose a write, so it is never a NotFoundError."""


def raise_for_status(response: requests.Response, doing: str) -> None:
    raise_for_answer(response.status_code, dict(response.headers), _json_or_none(response), doing)


def raise_for_answer(status: int, headers: dict[str, str], body: Any, doing: str) -> None:
    if status < 400:
        return
    message = error_message(body)
    # A 404 is often the expected answer (does this definition exist yet?): not worth a warning.
    level = logging.INFO if status == 404 else logging.WARNING
    log.log(level, "Dynamics refused to %s: HTTP %s %s", doing, status, message[:200])
    if status == 429:
        raise RetriableError(f"Dynamics is throttling requests ({doing})", retry_after(headers))
    if status >= 500:
        raise RetriableError(
            f"Dynamics could not {doing} (HTTP {status}) {message}".rstrip(), retry_after(headers)
        )
    if status == 400 and (missing := _our_missing_column(message)):
        raise MissingColumn(missing)
    if status == 401:
        raise ReconnectRequired("dynamics", f"Dynamics refused the sign-in while trying to {doing}")
    if status == 403 and _code(body) == NOT_A_MEMBER:
        raise NoApplicationUser()
    if status == 403:
        raise FatalError(f"Dynamics refused to {doing}: {message or 'missing privileges'}")
    if status in (404, 413, 414, 431) and not _is_dataverse_error(body):
        raise ServerRefused(
            f"The Dynamics server refused to {doing} (HTTP {status}) without an answer from Dynamics "
            "itself: a web server limit on the request's size (IIS request filtering), or a wrong address"
        )
    if status == 404 and _code(body) == UNKNOWN_SEGMENT:
        found = _SEGMENT.search(message)
        raise UnknownSegment(f"Dynamics could not {doing}: {message}", found.group(1) if found else "")
    if status == 404:
        raise NotFoundError(f"Dynamics could not {doing}: {message or 'not found'}")
    if status == 412:
        raise ConcurrencyError(f"Dynamics refused to {doing}: {message or 'the row changed meanwhile'}")
    raise FatalError(f"Dynamics refused to {doing} (HTTP {status}): {message}".rstrip(": "))


def error_message(body: Any) -> str:
    """Dataverse answers `{"error": {"code", "message"}}`; identity services `{"error": "code", …}`."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "")[:MAX_MESSAGE]
    return str(error or "")[:MAX_MESSAGE]


def _our_missing_column(message: str) -> str:
    """The column named by an unknown-property answer, when it is one of ours (publisher prefix): a
    missing column of Dynamics' own is not something Install can add."""
    found = _UNKNOWN_PROPERTY.search(message)
    column = found.group(1) if found else ""
    return column if column.startswith(f"{schema.PREFIX}_") else ""


def _is_dataverse_error(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


def _code(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code") or "").lower() if isinstance(error, dict) else ""


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
