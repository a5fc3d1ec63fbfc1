"""Xero Idempotency-Key values: the same business change always gets the same key.

A queue redelivers a message after a crash, and Dynamics may fire the same change twice; both must reach
Xero as the same request. So the key is built from what the change is (connection, invoice, invoice version,
which call), never from the queue message id, which differs on every copy.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

MAX_LENGTH = 128  # Xero's limit
_STEP = re.compile(r"[a-z][a-z0-9_.:-]{0,31}")


def idempotency_key(connection_id: str, invoice_id: str, version: int | str, step: str) -> str:
    """`dxc-<step>-<sha256>`: readable step, hashed identity (no ids leak into Xero's logs, length fixed).

    step names the call: "contact", "items", "invoice", "cancel" (a batch may add a suffix, "items:2").
    """
    if not _STEP.fullmatch(step):
        raise ValueError(f"step must be a short lowercase name, got {step!r}")
    parts = [connection_id.strip(), invoice_id.strip().lower(), str(version).strip()]
    if not all(parts):
        raise ValueError("connection id, invoice id and version are all needed for an idempotency key")
    digest = hashlib.sha256("\x1f".join([*parts, step]).encode()).hexdigest()
    key = f"dxc-{step}-{digest}"
    assert len(key) <= MAX_LENGTH
    return key


def payload_digest(value: Any) -> str:
    """A short, stable digest of what a call sends: part of its key, so a corrected payload is a new
    request to Xero rather than a replay of the answer Xero remembered for the refused one."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
