"""The collaborators the signed-in pages use, handed in by their trigger (functions/ builds them with
shared/bootstrap.py), so that nothing in web/ reaches up to the composition root for them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

    from shared.billing.enforcement import Enforcer
    from shared.store.activity import ActivityLog
    from shared.store.backfills import BackfillStore
    from shared.store.connections import ConnectionStore
    from shared.store.models import Connection
    from shared.xero.accounting import XeroAccounting


@dataclass(frozen=True)
class PortalParts:
    connections: ConnectionStore
    session: requests.Session
    activity: ActivityLog
    dataverse_for: Callable[[Connection], Any]
    xero_for: Callable[[Connection], XeroAccounting]
    enforcer: Enforcer | None  # the plans' limits; None while billing is off
    backfills: BackfillStore | None = None  # each connection's backfill (shared/backfill)
