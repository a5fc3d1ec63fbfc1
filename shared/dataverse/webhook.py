"""Read a Dataverse webhook (RemoteExecutionContext JSON) and decide whether it means "push this invoice".

The HTTP path must answer in milliseconds and never crash on a body it did not expect, so parsing is
tolerant of what it does not need (unknown fields are ignored) and strict only about the ids the queue
message is built from. Every problem surfaces as `WebhookError`, never as another exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.dataverse import schema
from shared.dataverse.values import EntityRef, WebhookError, entity_attributes, is_guid, pairs

__all__ = [
    "EntityRef",
    "Ignored",
    "InvoiceChange",
    "WebhookContext",
    "WebhookError",
    "classify",
    "parse_context",
]

SIZE_EXCEEDED_HEADER = "x-ms-dynamics-msg-size-exceeded"


@dataclass(frozen=True)
class WebhookContext:
    message_name: str
    entity_name: str
    entity_id: str
    organization_id: str
    organization_name: str | None = None
    correlation_id: str | None = None
    request_id: str | None = None
    depth: int = 1
    user_id: str | None = None
    target: dict[str, Any] = field(default_factory=dict)
    pre_image: dict[str, Any] = field(default_factory=dict)
    post_image: dict[str, Any] = field(default_factory=dict)
    size_exceeded: bool = False
    changed_attributes: frozenset[str] = frozenset()
    target_row_version: str | None = None


def parse_context(body: bytes, headers: Mapping[str, str]) -> WebhookContext:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # ValueError covers bad JSON, bad UTF-8, over-long integers
        raise WebhookError("body", "not JSON") from None
    if not isinstance(document, dict):
        raise WebhookError("body", "expected a JSON object")
    message_name, entity_name = _text(document, "MessageName"), _text(document, "PrimaryEntityName")
    entity_id, organization_id = _guid(document, "PrimaryEntityId"), _guid(document, "OrganizationId")
    target, row_version = _target(document)
    return WebhookContext(
        message_name=message_name,
        entity_name=entity_name,
        entity_id=entity_id,
        organization_id=organization_id,
        organization_name=_optional_text(document, "OrganizationName"),
        correlation_id=_optional_text(document, "CorrelationId"),
        request_id=_optional_text(document, "RequestId"),
        depth=_depth(document),
        user_id=_optional_text(document, "UserId"),
        target=target,
        pre_image=_image(document, "PreEntityImages", "preimage"),
        post_image=_image(document, "PostEntityImages", "postimage"),
        size_exceeded=_size_exceeded(headers),
        changed_attributes=frozenset(target),
        target_row_version=row_version,
    )


def _text(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        raise WebhookError(name, "expected a non-empty string")
    return value.strip()


def _optional_text(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise WebhookError(name, "expected a string or null")
    return value


def _guid(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not is_guid(value):
        raise WebhookError(name, "expected a GUID")
    return str(value).lower()


def _depth(document: dict[str, Any]) -> int:
    value = document.get("Depth", 1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WebhookError("Depth", "expected a whole number")
    return value


def _size_exceeded(headers: Mapping[str, str]) -> bool:
    for name, value in headers.items():
        if str(name).lower() == SIZE_EXCEEDED_HEADER:
            return str(value).strip().lower() not in ("", "false", "0")
    return False


def _target(document: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The Target's attributes and RowVersion. Delete sends an EntityReference as Target: no attributes."""
    for key, value, path in pairs(document, "InputParameters"):
        if key != "Target" or value is None:
            continue
        if not isinstance(value, dict):
            raise WebhookError(path, "expected an object")
        row_version = value.get("RowVersion")
        if row_version is not None and not isinstance(row_version, str):
            raise WebhookError(f"{path}.RowVersion", "expected a string or null")
        if "Attributes" not in value:
            return {}, row_version
        return entity_attributes(value, path), row_version
    return {}, None


def _image(document: dict[str, Any], name: str, preferred: str) -> dict[str, Any]:
    """The image registered under `preferred` (any case), else the first one Dataverse sent."""
    images = [(key, value, path) for key, value, path in pairs(document, name) if value is not None]
    images.sort(key=lambda image: image[0].lower() != preferred)  # stable: preferred first, then as sent
    if not images:
        return {}
    _, value, path = images[0]
    if not isinstance(value, dict):
        raise WebhookError(path, "expected an object")
    return entity_attributes(value, path)


@dataclass(frozen=True)
class InvoiceChange:
    """An invoice to push. invoice_id is None when only the line is known (the worker looks it up)."""

    invoice_id: str | None
    line_id: str | None = None
    version: int | str | None = None
    moved_from: str | None = None  # the invoice a line was moved away from (its pre-image says so)


@dataclass(frozen=True)
class Ignored:
    reason: str


# Columns Dataverse itself stamps on every Update: their change alone means nothing happened to the invoice.
SYSTEM_COLUMNS = frozenset(
    {
        "invoiceid",
        "modifiedon",
        "modifiedby",
        "modifiedonbehalfby",
        "versionnumber",
        "timezoneruleversionnumber",
        "utcconversiontimezonecode",
        "exchangerate",  # recalculated by Dataverse on save; the connector never sends a rate to Xero
    }
)
IGNORABLE_COLUMNS = SYSTEM_COLUMNS | frozenset(schema.INVOICE_WRITE_BACK_COLUMNS)
_INVOICE_MESSAGES = ("create", "update")
_LINE_MESSAGES = ("create", "update", "delete")


def classify(ctx: WebhookContext) -> InvoiceChange | Ignored:
    """What a webhook asks of the connector.

    Invoice Create/Update pushes the invoice. A line (invoicedetail) change pushes its invoice, because
    Xero stores lines inside the invoice; when the body was too big to carry the line's `invoiceid`, the
    line id travels instead and the worker resolves it with one GET.

    The push writes its result back onto the invoice, which is itself an Update. The webhook step's
    filteringattributes should exclude those columns, but a step registered without them (or an older
    install) would loop forever: an Update that changed only write-back and system columns is ignored
    whatever its Depth. An Update at Depth > 1 that changed business columns (a plugin recalculating
    totals) is a real change and is pushed.
    """
    entity, message = ctx.entity_name.lower(), ctx.message_name.lower()
    if entity == "invoice":
        if message not in _INVOICE_MESSAGES:
            return Ignored(f"message {ctx.message_name} on invoice is not handled")
        if message == "update" and _only_write_back(ctx):
            return Ignored(f"only the connector's write-back or system columns changed (depth {ctx.depth})")
        return InvoiceChange(invoice_id=ctx.entity_id, version=_version(ctx))
    if entity == "invoicedetail":
        if message not in _LINE_MESSAGES:
            return Ignored(f"message {ctx.message_name} on invoicedetail is not handled")
        invoice = _invoice_of_line(ctx)
        before = ctx.pre_image.get("invoiceid") if message == "update" else None
        moved = isinstance(before, EntityRef) and invoice is not None and before.id != invoice.id
        # The line's own versionnumber is not the invoice's: the worker reads the invoice's version.
        return InvoiceChange(
            invoice_id=invoice.id if invoice else None,
            line_id=ctx.entity_id,
            moved_from=before.id if moved and isinstance(before, EntityRef) else None,
        )
    return Ignored(f"table {ctx.entity_name} is not handled")


def _only_write_back(ctx: WebhookContext) -> bool:
    # Without a Target (size exceeded) we cannot tell what changed, so the invoice is pushed.
    return bool(ctx.changed_attributes) and ctx.changed_attributes <= IGNORABLE_COLUMNS


def _version(ctx: WebhookContext) -> int | str | None:
    """The invoice's versionnumber if the webhook carries it; None lets the worker read the current one."""
    for source in (ctx.post_image, ctx.target):
        number = _as_version(source.get("versionnumber"))
        if number is not None:
            return number
    return _as_version(ctx.target_row_version)


def _as_version(value: object) -> int | str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        return int(text) if text.isdigit() and len(text) <= 20 else text[:64]
    return None


def _invoice_of_line(ctx: WebhookContext) -> EntityRef | None:
    for source in (ctx.target, ctx.post_image, ctx.pre_image):
        ref = source.get("invoiceid")
        if isinstance(ref, EntityRef):
            return ref
    return None
