"""POST /api/xero/webhook's whole job: check x-xero-signature, put the invoice ids on the queue, answer.

Xero's contract (developer.xero.com/documentation/webhooks/configuring-your-server; xero-webhooks.yaml
16.1.0 responses 200WebhookDataReceivedOk / 401InvalidWebhookData): answer 200 with no body and no cookies
when the signature is right and 401 when it is not, within 5 seconds. Without an acceptable answer Xero
retries "with decreasing frequency for up to 24 hours", then disables the webhook: so a queue outage is
answered 503 (Xero sends the batch again), never 200. Xero's "Intent to receive" sends a correctly
and a wrongly signed empty event list and expects exactly that; a subscription is only activated once it
passed. So nothing but hashing and one queue write happens here: no Xero, no Dataverse, no table read.

A replayed body (the same bytes again, correctly signed) is accepted again: Xero itself re-sends a batch it
got no 200 for, and the message holds ids only — the worker reads the invoice's current state from Xero,
so a replay can only cause a read, never a wrong or repeated change."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.dataverse.values import is_guid
from shared.xero_inbound.messages import XeroInvoicesMessage, messages_for
from shared.xero_inbound.signature import is_signed_by_xero

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS = 1000


@dataclass(frozen=True)
class Answer:
    status: int  # 200 or 401 as Xero requires; 413 for an absurd body; 503 when the queue is unreachable
    queued: int = 0  # messages put on the queue


def accept_xero_webhook(
    body: bytes,
    signature: str | None,
    webhook_key: str,
    enqueue: Callable[[XeroInvoicesMessage], object],
    now: Callable[[], datetime],
) -> Answer:
    if len(body) > MAX_BODY_BYTES:
        return Answer(413)
    if not is_signed_by_xero(body, signature, webhook_key):
        if not webhook_key:
            log.error("a Xero webhook arrived but XERO_WEBHOOK_KEY is not set: refused (see README)")
        return Answer(401)
    by_tenant = invoice_ids_by_tenant(body)
    received_at = now().isoformat()
    messages = [
        m for tenant, ids in by_tenant.items() for m in messages_for(tenant, ids, received_at, "webhook")
    ]
    try:
        for message in messages:
            enqueue(message)
    except Exception as error:  # storage unreachable: Xero re-sends a batch it got no 200 for
        log.error("could not queue Xero's events: %s", type(error).__name__)
        return Answer(503)
    if messages:
        log.info("queued %s Xero invoice message(s) for %s organisation(s)", len(messages), len(by_tenant))
    return Answer(200, len(messages))


def invoice_ids_by_tenant(body: bytes) -> dict[str, list[str]]:
    """INVOICE events' resource ids per organisation. Xero signed this body, so what we do not use
    (contacts, credit notes, subscriptions, an empty intent-to-receive list) is acknowledged and dropped."""
    try:
        parsed: Any = json.loads(body or b"{}")
    except ValueError:
        log.warning("a correctly signed Xero webhook whose body is not JSON: acknowledged, nothing queued")
        return {}
    events = parsed.get("events") if isinstance(parsed, dict) else None
    found: dict[str, list[str]] = {}
    for event in (events if isinstance(events, list) else [])[:MAX_EVENTS]:
        if not isinstance(event, dict) or event.get("eventCategory") != "INVOICE":
            continue
        tenant, resource = event.get("tenantId"), event.get("resourceId")
        organisation = event.get("tenantType", "ORGANISATION") == "ORGANISATION"
        if organisation and is_guid(tenant) and is_guid(resource):
            found.setdefault(str(tenant).lower(), []).append(str(resource).lower())
    return found
