"""The two kinds of failure every service raises, and the few special cases callers act on.

Retriable: the queue redelivers (later, by `retry_after` seconds when the server said so).
Fatal: retrying cannot help; the reason is written where the customer sees it.
"""

from __future__ import annotations

from typing import Literal

Side = Literal["xero", "dynamics"]


class ConnectorError(Exception):
    """Base of the connector's own errors."""


class RetriableError(ConnectorError):
    """429, 5xx, timeouts, a busy lease: try again later. Never sleep `retry_after` inside a function."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(ConnectorError):
    """Validation errors, bad configuration, missing records: stop retrying, show the reason."""


class NotFoundError(FatalError):
    """A record (connection, account) that the caller named does not exist."""


class ReconnectRequired(FatalError):
    """The customer must sign in again on one side (revoked consent, a refresh token Xero refused)."""

    def __init__(self, side: Side, reason: str) -> None:
        super().__init__(f"{side}: {reason}")
        self.side: Side = side
        self.reason = reason


class ConcurrencyError(ConnectorError):
    """An ETag-conditional write lost a race: someone else changed the row first. Re-read and re-apply."""
