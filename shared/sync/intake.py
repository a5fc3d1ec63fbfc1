"""The webhook's whole job: check the key, read ids from the body, enqueue, answer — in milliseconds.

Nothing else happens on this path (no Dataverse, no Xero): Dynamics gives a webhook 60 s and retries only
502/503/504, so owning the retrying means getting the event onto our queue and answering at once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from shared.dataverse.values import WebhookError, is_guid
from shared.dataverse.webhook import Ignored, InvoiceChange, WebhookContext, classify, parse_context
from shared.store.models import Connection
from shared.store.webhook_keys import connection_id_from_key
from shared.sync.coalesce import PROCESS
from shared.sync.events import InvoiceEvent

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024


class Connections(Protocol):
    def get(self, connection_id: str) -> Connection | None: ...  # as stored now

    def recent(self, connection_id: str) -> Connection | None: ...  # may be a few seconds old

    def verify_webhook_key(self, connection: Connection, presented: str) -> bool: ...


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    by_the_row: bool = False  # decided by the connection's row (key, organisation, status), not the body


def accept_webhook(
    body: bytes,
    headers: Mapping[str, str],
    presented_key: str,
    connections: Connections,
    enqueue: Callable[[InvoiceEvent], object],
    now: Callable[[], datetime],
) -> Answer:
    if len(body) > MAX_BODY_BYTES:
        return Answer(413, {"error": "the body is over 1 MB", "field": "body"})
    checked = _check(body, headers, presented_key, connections.recent, connections)
    if isinstance(checked, Answer) and checked.by_the_row:
        # Decided by a row that may be seconds old (a key rotated, an organisation reconnected since):
        # Dynamics does not retry these, so decide again on the row as stored now.
        checked = _check(body, headers, presented_key, connections.get, connections)
    if isinstance(checked, Answer):
        return checked
    connection, context, change = checked
    event = InvoiceEvent(
        connection_id=connection.id,
        invoice_id=change.invoice_id,
        line_id=change.line_id,
        version=change.version,
        # Only a GUID, as Dataverse sends: the event must stay far below a queue message's 64 KB.
        correlation_id=context.correlation_id if is_guid(context.correlation_id) else None,
        received_at=now().isoformat(),
        received_by=PROCESS,
    )
    # A line moved to another invoice: the invoice it left is pushed too, or Xero keeps billing the line
    # there (the worker reads that invoice's lines afresh; no line of its own to name).
    left = replace(event, invoice_id=change.moved_from, line_id=None, version=None)
    try:
        enqueue(event)
        if change.moved_from:
            enqueue(left)
    except Exception as error:  # storage unreachable: 503 is the answer Dynamics retries
        log.error("connection %s: could not queue an event: %s", connection.id, type(error).__name__)
        return Answer(503, {"error": "the event could not be queued; please retry"})
    log.info(
        "queued invoice %s (line %s) for connection %s, correlation %s",
        event.invoice_id, event.line_id, connection.id, event.correlation_id,
    )  # fmt: skip
    if change.moved_from:
        return Answer(
            202, {"status": "queued", "invoice_id": event.invoice_id, "moved_from": change.moved_from}
        )
    return Answer(202, {"status": "queued", "invoice_id": event.invoice_id})


def _check(
    body: bytes,
    headers: Mapping[str, str],
    presented_key: str,
    read: Callable[[str], Connection | None],
    connections: Connections,
) -> Answer | tuple[Connection, WebhookContext, InvoiceChange]:
    """The answer when the webhook is refused or ignored; else what to enqueue."""
    connection = _authenticated(presented_key, read, connections)
    if connection is None:
        return Answer(401, {"error": "missing or wrong webhook key"}, by_the_row=True)
    try:
        context = parse_context(body, headers)
    except WebhookError as error:
        return Answer(400, {"error": error.message, "field": error.field})
    expected = connection.dynamics.organisation_id.lower()
    if not expected or context.organization_id.lower() != expected:
        log.warning("webhook for connection %s came from another organisation", connection.id)
        return Answer(
            403,
            {"error": "this key belongs to another Dynamics organisation", "field": "OrganizationId"},
            by_the_row=True,
        )
    if connection.status == "disconnected":
        return Answer(202, {"status": "ignored", "reason": "the connection is disconnected"}, by_the_row=True)
    change = classify(context)
    if isinstance(change, Ignored):
        return Answer(202, {"status": "ignored", "reason": change.reason})
    return connection, context, change


def _authenticated(
    presented_key: str, read: Callable[[str], Connection | None], connections: Connections
) -> Connection | None:
    connection_id = connection_id_from_key(presented_key)
    if not connection_id or len(presented_key) > 512:
        return None
    connection = read(connection_id)
    # A missing connection and a wrong key look the same from outside.
    if connection is None or not connections.verify_webhook_key(connection, presented_key):
        return None
    return connection
