"""The log context of one queue message, carried by a LoggerAdapter instead of by hand.

Every line says which connection, invoice, invocation and delivery it is about (the text, for a person
reading the log), and carries the same fields as record attributes (`extra`, for a query in Application
Insights, where they become custom dimensions).
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from shared.sync.events import InvoiceEvent


class EventLog(logging.LoggerAdapter[logging.Logger]):
    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(self.extra or {})
        kwargs["extra"] = {**extra, **(kwargs.get("extra") or {})}
        return f"{prefix(extra)}: {msg}", kwargs

    def last_try(self) -> EventLog:
        """The same context, marked as the poison queue's last try."""
        return EventLog(self.logger, {**(self.extra or {}), "last_try": True})


def event_log(
    logger: logging.Logger,
    event: InvoiceEvent,
    invocation_id: str,
    dequeue_count: int | None = None,
    connection_id: str | None = None,
) -> EventLog:
    fields: dict[str, Any] = {
        "connection_id": connection_id or event.connection_id,
        "invoice_id": event.invoice_id or event.line_id,
        "invocation_id": invocation_id,
    }
    if dequeue_count is not None:
        fields["dequeue_count"] = dequeue_count
    return EventLog(logger, fields)


def prefix(fields: dict[str, Any]) -> str:
    text = f"connection {fields['connection_id']} invoice {fields['invoice_id']}"
    text += f" invocation {fields['invocation_id']}"
    if "dequeue_count" in fields:
        text += f" dequeue_count {fields['dequeue_count']}"
    return text + (" (last try)" if fields.get("last_try") else "")
