"""The message the Xero webhook puts on the Xero events queue: one organisation, the ids of its invoices
that changed — ids only, never invoice contents (the worker reads what changed from Xero itself)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from shared.dataverse.values import is_guid

KIND = "xero-invoices"
MAX_IDS = 50  # one GET Invoices?IDs=… per message; 50 GUIDs keep the URL far below any limit


class BadMessage(ValueError):
    """A queue message that is not a Xero invoices message (no retry can fix it)."""


@dataclass(frozen=True)
class XeroInvoicesMessage:
    tenant_id: str
    invoice_ids: tuple[str, ...]
    received_at: str = ""  # ISO 8601 UTC, when the webhook (or the sweep) saw it
    source: str = "webhook"  # or "sweep"
    deferrals: int = 0  # waits asked by Xero or Dynamics (the organisation's minute full)
    kind: str = field(default=KIND)

    def to_json(self) -> str:
        data = asdict(self)
        data["invoice_ids"] = list(self.invoice_ids)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> XeroInvoicesMessage:
        try:
            data: Any = json.loads(raw)
        except ValueError:
            raise BadMessage("the message is not JSON") from None
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise BadMessage("the message is not a Xero invoices message")
        tenant, ids = data.get("tenant_id"), data.get("invoice_ids")
        if not is_guid(tenant):
            raise BadMessage("tenant_id must be a GUID")
        if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS or not all(is_guid(i) for i in ids):
            raise BadMessage(f"invoice_ids must be 1 to {MAX_IDS} GUIDs")
        deferrals = data.get("deferrals")
        return cls(
            tenant_id=str(tenant).lower(),
            invoice_ids=tuple(dict.fromkeys(str(i).lower() for i in ids)),
            received_at=str(data.get("received_at") or ""),
            source=str(data.get("source") or "webhook")[:20],
            deferrals=deferrals if isinstance(deferrals, int) and deferrals > 0 else 0,
        )


def messages_for(
    tenant_id: str, invoice_ids: list[str], received_at: str, source: str
) -> list[XeroInvoicesMessage]:
    """The ids of one organisation, de-duplicated, in messages of at most MAX_IDS."""
    unique = list(dict.fromkeys(i.lower() for i in invoice_ids))
    return [
        XeroInvoicesMessage(tenant_id.lower(), tuple(unique[at : at + MAX_IDS]), received_at, source)
        for at in range(0, len(unique), MAX_IDS)
    ]
