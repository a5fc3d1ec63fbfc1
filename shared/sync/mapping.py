"""Dynamics → Xero mapping, one import away: contact, items, invoice and what may still change."""

from __future__ import annotations

from shared.sync.mapping_contact import ContactPlan, customer_of, map_contact
from shared.sync.mapping_invoice import map_invoice
from shared.sync.mapping_items import item_warnings, items_to_write, wanted_items
from shared.sync.mapping_status import can_update, cancel_action

__all__ = [
    "ContactPlan",
    "can_update",
    "cancel_action",
    "customer_of",
    "item_warnings",
    "items_to_write",
    "map_contact",
    "map_invoice",
    "wanted_items",
]
