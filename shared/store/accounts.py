"""The accounts table: the customer's users.

Layout (one table, two kinds of row):
- account rows: PartitionKey = account id, RowKey = "account" (point reads by the id in the session);
- e-mail rows:  PartitionKey = "email", RowKey = base64url(normalised e-mail), holding the account id.
The e-mail row is inserted first; the insert fails when the address is taken, which makes e-mail unique
without a scan. Addresses are normalised (trimmed, lower case) and encoded because RowKeys may not contain
'/', '\\', '#' or '?'.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient

from shared.config import Settings
from shared.errors import ConcurrencyError, FatalError, NotFoundError
from shared.store.codec import EntityCodec
from shared.store.models import Account, utc_now
from shared.store.tables import ACCOUNTS, replace_if_unchanged, table_client

ACCOUNT_ROW = "account"
EMAIL_PARTITION = "email"
STALE_INDEX_AFTER = timedelta(minutes=5)


class EmailTakenError(FatalError):
    """Another account already uses this e-mail address."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _email_key(email: str) -> str:
    return base64.urlsafe_b64encode(normalise_email(email).encode()).decode().rstrip("=")


class AccountStore:
    def __init__(self, table: TableClient) -> None:
        self._table = table
        self._codec = EntityCodec(Account)

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountStore:
        return cls(table_client(settings, ACCOUNTS))

    def create(
        self,
        email: str,
        password_hash: str,
        name: str = "",
        company: str = "",
        plan: str = "trial",
        trial_ends_at: datetime | None = None,
    ) -> Account:
        account = Account(
            id=str(uuid.uuid4()),
            email=normalise_email(email),
            name=name,
            company=company,
            password_hash=password_hash,
            plan=plan,
            trial_ends_at=trial_ends_at,
        )
        self._claim_email(account.email, account.id)
        answer = self._table.create_entity(self._entity(account))
        account.etag = answer["etag"]
        return account

    def get(self, account_id: str) -> Account | None:
        try:
            entity = self._table.get_entity(account_id, ACCOUNT_ROW)
        except ResourceNotFoundError:
            return None
        return self._from_entity(entity)

    def require(self, account_id: str) -> Account:
        account = self.get(account_id)
        if account is None:
            raise NotFoundError(f"account {account_id} does not exist")
        return account

    def get_by_email(self, email: str) -> Account | None:
        try:
            index = self._table.get_entity(EMAIL_PARTITION, _email_key(email))
        except ResourceNotFoundError:
            return None
        account = self.get(index["account_id"])
        # An index row whose account is gone, or that points at an account with another address, is stale.
        return account if account and account.email == normalise_email(email) else None

    def save(self, account: Account) -> Account:
        """Replace the row if unchanged since read. Change the e-mail with change_email(), not here."""
        if account.etag is None:
            raise ValueError("save() needs an account read from the store (it has no ETag)")
        try:
            answer = replace_if_unchanged(self._table, self._entity(account), account.etag)
        except ResourceModifiedError:
            raise ConcurrencyError(f"account {account.id} changed since it was read") from None
        except ResourceNotFoundError:
            raise NotFoundError(f"account {account.id} does not exist") from None
        account.etag = answer["etag"]
        return account

    def update(self, account_id: str, mutate: Callable[[Account], None], retries: int = 5) -> Account:
        """Read, apply `mutate`, save; on a lost race read again and re-apply."""

        def guarded(account: Account) -> None:
            email = account.email
            mutate(account)
            if account.email != email:
                raise ValueError("use change_email() to change an account's e-mail address")

        return self._update(account_id, guarded, retries)

    def change_email(self, account_id: str, new_email: str) -> Account:
        """Claim the new address, switch the account to it (unverified), then free the old one."""
        new_email = normalise_email(new_email)
        old_email = self.require(account_id).email
        if new_email == old_email:
            return self.require(account_id)
        self._claim_email(new_email, account_id)

        def switch(account: Account) -> None:
            account.email, account.email_verified = new_email, False

        try:
            account = self._update(account_id, switch)
        except Exception:
            self._release_email(new_email)
            raise
        self._release_email(old_email)
        return account

    def record_failed_sign_in(self, account_id: str, at: datetime | None = None) -> Account:
        def count(account: Account) -> None:
            account.failed_sign_ins += 1
            account.last_failed_sign_in_at = at or utc_now()

        return self.update(account_id, count)

    def reset_failed_sign_ins(self, account_id: str) -> Account:
        def reset(account: Account) -> None:
            account.failed_sign_ins, account.last_failed_sign_in_at = 0, None

        return self.update(account_id, reset)

    def delete(self, account_id: str) -> None:
        account = self.get(account_id)
        if account is None:
            return
        self._table.delete_entity(account_id, ACCOUNT_ROW)
        self._release_email(account.email)

    def _update(self, account_id: str, mutate: Callable[[Account], None], retries: int = 5) -> Account:
        for _ in range(retries):
            account = self.require(account_id)
            mutate(account)
            try:
                return self.save(account)
            except ConcurrencyError:
                continue
        raise ConcurrencyError(f"account {account_id}: {retries} writes in a row lost their race")

    def _claim_email(self, email: str, account_id: str) -> None:
        row = {"PartitionKey": EMAIL_PARTITION, "RowKey": _email_key(email), "account_id": account_id}
        try:
            self._table.create_entity(row)
            return
        except ResourceExistsError:
            existing = self._table.get_entity(EMAIL_PARTITION, _email_key(email))
        if not self._is_stale(existing, email):
            raise EmailTakenError("an account with this e-mail address already exists")
        try:
            # Take over the stale row only if nobody else did first.
            replace_if_unchanged(self._table, row, existing.metadata["etag"])
        except (ResourceModifiedError, ResourceNotFoundError):
            raise EmailTakenError("an account with this e-mail address already exists") from None

    def _is_stale(self, index: Any, email: str) -> bool:
        """An index row whose account was never created (a crash mid-signup) or has moved to another
        address. A young row may belong to a signup still in progress, so it is never stale."""
        written = index.metadata.get("timestamp")
        if written is not None and utc_now() - written < STALE_INDEX_AFTER:
            return False
        account = self.get(index["account_id"])
        return account is None or account.email != normalise_email(email)

    def _release_email(self, email: str) -> None:
        self._table.delete_entity(EMAIL_PARTITION, _email_key(email))

    def _entity(self, account: Account) -> dict[str, Any]:
        return {
            "PartitionKey": account.id,
            "RowKey": ACCOUNT_ROW,
            **self._codec.to_properties(account, account.id),
        }

    def _from_entity(self, entity: Any) -> Account:
        account = self._codec.from_properties(entity, owner=entity["PartitionKey"])
        account.etag = entity.metadata["etag"]
        return account
