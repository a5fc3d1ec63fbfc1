"""The expanded invoice document of tests/events, loaded fresh for each test that changes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).resolve().parent.parent / "events" / "invoice_document.json"
ACCOUNT_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
CONTACT_REF = {"ContactID": "5b3c2d1e-0f9a-4b8c-9d7e-6f5a4b3c2d1e"}


def invoice_document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())


def line(doc: dict[str, Any], number: int) -> dict[str, Any]:
    return next(item for item in doc["invoice_details"] if item["lineitemnumber"] == number)
