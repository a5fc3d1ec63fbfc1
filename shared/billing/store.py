"""The billing table: which account a Stripe customer belongs to, and which Stripe events were applied.

Rows (metadata only, no business data):
- PartitionKey "customer", RowKey = Stripe customer id -> account_id (who a webhook's customer is);
- PartitionKey "event",    RowKey = Stripe event id    -> type, applied_at (each event applied once:
  claimed before it is applied, released if applying fails).
"""

from __future__ import annotations

from datetime import datetime

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient

from shared.config import Settings
from shared.store.tables import table_client

BILLING = "billing"
CUSTOMER, EVENT = "customer", "event"


class BillingStore:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    @classmethod
    def from_settings(cls, settings: Settings) -> BillingStore:
        return cls(table_client(settings, BILLING))

    def link_customer(self, customer_id: str, account_id: str) -> None:
        """First writer wins: a customer id never moves to another account."""
        try:
            self._table.create_entity(
                {"PartitionKey": CUSTOMER, "RowKey": customer_id, "account_id": account_id}
            )
        except ResourceExistsError:
            pass

    def account_of(self, customer_id: str) -> str | None:
        try:
            return str(self._table.get_entity(CUSTOMER, customer_id)["account_id"])
        except ResourceNotFoundError:
            return None

    def claim_event(self, event_id: str, event_type: str, at: datetime) -> bool:
        """True for the one delivery that may apply this event; False for every other (a duplicate, or a
        concurrent delivery of the same event). An insert either succeeds or finds the row: no race."""
        try:
            self._table.create_entity(
                {"PartitionKey": EVENT, "RowKey": event_id, "type": event_type, "applied_at": at}
            )
        except ResourceExistsError:
            return False
        return True

    def release_event(self, event_id: str) -> None:
        """Applying failed: let Stripe's next delivery of the event try again."""
        try:
            self._table.delete_entity(EVENT, event_id)
        except ResourceNotFoundError:
            pass
