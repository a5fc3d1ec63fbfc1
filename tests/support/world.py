"""The world of the end-to-end tests: the local stack (Azurite, both sandboxes, the host when asked) with
one connection onboarded, what a Dynamics user and someone in Xero can do with it, and the connector's
queue functions called as the host calls them. `running_world` starts and stops one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from local.azurite import Azurite
from shared import bootstrap
from shared.billing.allowance import month_key
from shared.billing.usage import USAGE, UsageStore
from shared.dataverse import schema
from shared.store.accounts import AccountStore
from shared.store.models import Account, utc_now
from shared.store.sync_settings import InvoiceStatus
from shared.store.tables import table_client
from shared.sync.events import InvoiceEvent
from shared.sync.worker import handle_invoice_message, handle_poison_message
from tests.support.dynamics_user import DynamicsUser
from tests.support.stack import LocalStack

FAST_HOST = Path(__file__).parents[1] / "integration" / "fast_host.json"  # 1 s visibility timeout, 3 attempts


class World:
    def __init__(self, stack: LocalStack, connection: Any) -> None:
        self.stack, self.connection, self.account_id = stack, connection, connection.account_id
        self.user = DynamicsUser(stack.dataverse)
        self.tenant = connection.xero.tenant_id
        self.xero_url = stack.xero.url
        self.webhook_url = f"{stack.host.url}/api/xero/webhook" if stack.host else ""
        self.key = stack.env["XERO_WEBHOOK_KEY"]
        self.requeued: list[tuple[str, int]] = []  # what handle() asked the queue to deliver again

    # -- Xero side, as the sandbox stores it --------------------------------------------------------------
    def xero(self, collection: str) -> list[dict[str, Any]]:
        return requests.get(f"{self.xero_url}/_sandbox/orgs/{self.tenant}/{collection}", timeout=10).json()

    def xero_invoice(self, xero_id: str) -> dict[str, Any]:
        return next(i for i in self.xero("Invoices") if i["InvoiceID"] == xero_id)

    def xero_invoices(self, reference: str) -> list[dict[str, Any]]:
        return [i for i in self.xero("Invoices") if i.get("Reference") == reference]

    def calls(self, method: str, path: str) -> int:
        counts = requests.get(f"{self.xero_url}/_sandbox/requests", timeout=10).json()
        return sum(c["count"] for c in counts if c["method"] == method and c["path"] == path)

    def faults(self, **values: Any) -> None:
        requests.put(f"{self.xero_url}/_sandbox/faults", json=values, timeout=10).raise_for_status()

    # -- someone working in Xero ------------------------------------------------------------------------
    def xero_api(self, method: str, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """A call to the sandbox Xero's Accounting API, as a person's own Xero app would make it."""
        grant = requests.post(f"{self.xero_url}/_sandbox/tokens", json={"tenants": [self.tenant]}, timeout=10)
        headers = {"Authorization": f"Bearer {grant.json()['access_token']}", "xero-tenant-id": self.tenant}
        answer = requests.request(
            method, f"{self.xero_url}/api.xro/2.0/{resource}", json=body, headers=headers, timeout=10
        )
        answer.raise_for_status()
        return dict(answer.json())

    def pay(self, xero_id: str, amount: float | None = None) -> None:
        url = f"{self.xero_url}/_sandbox/orgs/{self.tenant}/Invoices/{xero_id}/pay"
        body = {} if amount is None else {"amount": amount}
        requests.post(url, json=body, timeout=10).raise_for_status()

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

    def invoice(self, name: str, **line: Any) -> str:
        """An invoice saved in Dynamics for a new customer, with one line ("A" unless `line` says)."""
        return self.user.create_invoice(name, ("account", self.new_account()), [{"description": "A", **line}])

    def row(self, invoice_id: str) -> dict[str, Any]:
        return self.user.get(f"invoices({invoice_id})")

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

    def pushed(self, status: InvoiceStatus, name: str = "From Dynamics") -> tuple[str, dict[str, Any]]:
        """A Dynamics invoice pushed to Xero (as `status`): (Dynamics id, its row once written back)."""
        store = bootstrap.worker().connections()
        store.update(self.connection.id, lambda c: setattr(c, "sync", replace(c.sync, invoice_status=status)))
        invoice = self.user.create_invoice(
            name,
            ("account", self.new_account()),
            [{"description": "Consulting", "price": 120}],
            duedate="2030-01-31",  # Xero requires one to approve an invoice
        )
        row = self.user.wait_for(invoice, lambda r: bool(r.get(schema.INVOICE_XERO_ID)), 30)
        return invoice, row

    def shows(self, invoice: str, status: str, timeout: float = 20) -> dict[str, Any]:
        return self.user.wait_for(invoice, lambda r: r.get(schema.INVOICE_XERO_STATUS) == status, timeout)

    # -- the connector ------------------------------------------------------------------------------------
    @contextmanager
    def sync_settings(self, **changes: Any) -> Iterator[None]:
        store = bootstrap.worker().connections()
        before = store.require(self.connection.id).sync
        store.update(self.connection.id, lambda c: setattr(c, "sync", replace(before, **changes)))
        try:
            yield
        finally:
            store.update(self.connection.id, lambda c: setattr(c, "sync", before))

    def handle(self, body: str) -> str:
        """The invoice queue's function with one message; what it sends back to the queue is kept aside."""
        parts = replace(
            bootstrap.worker().invoice_worker(), requeue=lambda b, delay: self.requeued.append((b, delay))
        )
        return handle_invoice_message(body, 1, "test", parts)

    def push(self, invoice_id: str) -> str:
        return self.handle(
            InvoiceEvent(self.connection.id, invoice_id, received_at=utc_now().isoformat()).to_json()
        )

    def poison(self, invoice: str) -> str:
        # received by another instance long ago: nothing in this worker's memory covers it
        event = InvoiceEvent(
            self.connection.id, invoice, received_at="2000-01-01T00:00:00+00:00", received_by="other"
        )
        return handle_poison_message(event.to_json(), "test-invocation", bootstrap.worker().invoice_worker())

    def deferred_already(self, invoice: str, deferrals: int) -> str:
        event = InvoiceEvent(
            self.connection.id, invoice, received_at="2000-01-01T00:00:00+00:00", received_by="other",
            deferrals=deferrals,
        )  # fmt: skip
        return handle_invoice_message(
            event.to_json(), 1, "test-invocation", bootstrap.worker().invoice_worker()
        )

    # -- the account and its plan -----------------------------------------------------------------------
    def accounts(self) -> AccountStore:
        return AccountStore.from_settings(bootstrap.worker().settings)

    def account(self, **changes: Any) -> Account:
        def change(account: Account) -> None:
            for name, value in changes.items():
                setattr(account, name, value)

        return self.accounts().update(self.account_id, change)

    def set_used(self, count: int) -> None:
        row = {
            "PartitionKey": self.connection.id,
            "RowKey": month_key(utc_now()),
            "count": count,
            "warned": True,
        }
        table_client(bootstrap.worker().settings, USAGE).upsert_entity(row)

    def used(self) -> int:
        return UsageStore.from_settings(bootstrap.worker().settings).count(self.connection.id, utc_now())


@contextmanager
def running_world(
    azurite: Azurite,
    prefix: str,
    owner: str = "",
    env: dict[str, str] | None = None,
    with_host: bool = True,
    **stack: Any,
) -> Iterator[World]:
    """A stack (LocalStack's options in `stack`; `env` set for its lifetime) with one connection onboarded,
    for the portal account of e-mail address `owner` when given; stopped, the environment restored, after."""
    saved = {name: os.environ.get(name) for name in env or {}}
    os.environ.update(env or {})
    running = LocalStack(prefix=prefix + uuid.uuid4().hex[:8], azurite=azurite, **stack).start(with_host)
    try:
        account_id = (
            AccountStore.from_settings(running.app.settings).create(owner, "x").id if owner else "account-1"
        )
        yield World(running, running.onboard(account_id=account_id))
    finally:
        running.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
