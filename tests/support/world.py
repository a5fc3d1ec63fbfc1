"""The world of the end-to-end tests: the local stack (Azurite, both sandboxes, the host) with one
connection onboarded, and what a Dynamics user and a look into the sandbox Xero can do with it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from local.dynamics_user import DynamicsUser
from local.stack import LocalStack
from shared import bootstrap
from shared.dataverse import schema

FAST_HOST = Path(__file__).parents[1] / "integration" / "fast_host.json"  # 1 s visibility timeout, 3 attempts


class World:
    def __init__(self, stack: LocalStack, connection: Any) -> None:
        self.stack, self.connection = stack, connection
        self.user = DynamicsUser(stack.dataverse)
        self.tenant = connection.xero.tenant_id
        self.xero_url = stack.xero.url

    # -- Xero side, as the sandbox stores it --------------------------------------------------------------
    def xero(self, collection: str) -> list[dict[str, Any]]:
        return requests.get(f"{self.xero_url}/_sandbox/orgs/{self.tenant}/{collection}", timeout=10).json()

    def xero_invoice(self, xero_id: str) -> dict[str, Any]:
        return next(i for i in self.xero("Invoices") if i["InvoiceID"] == xero_id)

    def calls(self, method: str, path: str) -> int:
        counts = requests.get(f"{self.xero_url}/_sandbox/requests", timeout=10).json()
        return sum(c["count"] for c in counts if c["method"] == method and c["path"] == path)

    def faults(self, **values: Any) -> None:
        requests.put(f"{self.xero_url}/_sandbox/faults", json=values, timeout=10).raise_for_status()

    # -- Dynamics side ----------------------------------------------------------------------------------
    def new_account(self, name: str | None = None) -> str:
        name = name or f"Customer {uuid.uuid4().hex[:8]}"
        number = "ACC-" + uuid.uuid4().hex[:8].upper()
        response = self.user.session.post(
            self.user.base + "accounts", json={"name": name, "accountnumber": number}, timeout=10
        )
        response.raise_for_status()
        return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")

    def product(self, number: str) -> str:
        return self.user.first_id("products", f"productnumber eq '{number}'")

    def synced(
        self, invoice_id: str, after: dict[str, Any] | None = None, timeout: float = 30
    ) -> dict[str, Any]:
        """Wait until the connector has written a result on the invoice (a different one than `after`)."""
        shown = (
            schema.INVOICE_XERO_ID,
            schema.INVOICE_XERO_STATUS,
            schema.INVOICE_SYNC_ERROR,
            schema.INVOICE_SYNC_DIGEST,
        )

        def done(row: dict[str, Any]) -> bool:
            if not row.get(schema.INVOICE_SYNCED_ON):
                return False
            return after is None or any(row.get(column) != after.get(column) for column in shown)

        return self.user.wait_for(invoice_id, done, timeout)

    @contextmanager
    def sync_settings(self, **changes: Any) -> Iterator[None]:
        store = bootstrap.worker().connections()
        before = store.require(self.connection.id).sync
        store.update(self.connection.id, lambda c: setattr(c, "sync", replace(before, **changes)))
        try:
            yield
        finally:
            store.update(self.connection.id, lambda c: setattr(c, "sync", before))
