"""The small event the webhook puts on the invoice queue: ids only, never invoice contents."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from shared.dataverse.values import is_guid


class BadEvent(ValueError):
    """A queue message that is not an invoice event (it cannot be retried into shape)."""


@dataclass(frozen=True)
class InvoiceEvent:
    connection_id: str
    invoice_id: str | None  # None when only the line is known (size-exceeded webhook of a line)
    line_id: str | None = None
    version: int | str | None = None
    correlation_id: str | None = None
    received_at: str = ""  # ISO 8601 UTC
    received_by: str = ""  # the process that took the webhook (see coalesce.py)
    kind: str = "invoice"
    deferrals: int = 0  # how many times a wait asked by Xero or Dynamics put this event back (worker.py)

    @property
    def received_time(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.received_at) if self.received_at else None
        except ValueError:
            return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> InvoiceEvent:
        try:
            data: Any = json.loads(raw)
        except ValueError:
            raise BadEvent("the message is not JSON") from None
        if not isinstance(data, dict) or data.get("kind", "invoice") != "invoice":
            raise BadEvent("the message is not an invoice event")
        connection_id, invoice_id, line_id = (
            data.get("connection_id"),
            data.get("invoice_id"),
            data.get("line_id"),
        )
        if not isinstance(connection_id, str) or not connection_id:
            raise BadEvent("connection_id is missing")
        if not (is_guid(invoice_id) or (invoice_id is None and is_guid(line_id))):
            raise BadEvent("invoice_id (or line_id) must be a GUID")
        version = data.get("version")
        return cls(
            connection_id=connection_id,
            invoice_id=invoice_id,
            line_id=line_id if is_guid(line_id) else None,
            version=version if isinstance(version, int | str) else None,
            correlation_id=data.get("correlation_id")
            if isinstance(data.get("correlation_id"), str)
            else None,
            received_at=str(data.get("received_at") or ""),
            received_by=str(data.get("received_by") or ""),
            deferrals=_count(data.get("deferrals")),
        )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
