"""Each connection's backfill (Azure table `<prefix>backfills`, one row per connection): what was asked
(date range, status reasons), how far it got (the last Dynamics invoice id of the last finished page, the
page number), what came of it (counts, the latest failures with their reasons) and who is working on it
(a lease). Status and counts only, like the connections table: no invoice content is kept.

Every write is conditional on the ETag the row was read at, so the portal's Stop and a worker finishing
a page can never overwrite each other; the loser reads again and re-applies its change."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError

from shared.config import Settings
from shared.errors import ConcurrencyError
from shared.store.tables import replace_if_unchanged, table_client

BACKFILLS = "backfills"
ROW_KEY = "backfill"
Status = Literal["running", "stopped", "done", "failed"]
KEPT_PROBLEMS = 50  # the latest failures shown in the portal (a table property holds at most 64 KiB)


@dataclass(frozen=True)
class Problem:
    invoice_number: str
    reason: str


@dataclass
class Backfill:
    connection_id: str
    job_id: str
    status: Status
    date_from: str  # YYYY-MM-DD, the invoice date (Dynamics' datedelivered, else the day it was created)
    date_to: str
    status_reasons: tuple[int, ...]  # Dynamics statuscode values of open invoices
    total: int  # invoices in range when it started (the estimate's count)
    started_at: datetime
    step: int = 0  # pages finished
    kicked: int = 0  # the highest step whose queue message was sent
    cursor: str = ""  # the last invoice id of the last finished page (pages go in invoiceid order)
    created: int = 0  # new invoices in Xero
    matched: int = 0  # already in Xero: linked, not created again
    failed: int = 0
    skipped: int = 0
    xero_calls: int = 0
    problems: list[Problem] = field(default_factory=list)
    lease_owner: str = ""
    lease_until: datetime | None = None
    finished_at: datetime | None = None
    message: str = ""  # why it stopped, when not by the user or at the end
    etag: str | None = None

    @property
    def done(self) -> int:
        return self.created + self.matched + self.failed + self.skipped

    def leased_by_other(self, owner: str, now: datetime) -> bool:
        return bool(self.lease_owner) and self.lease_owner != owner and (self.lease_until or now) > now


class BackfillStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @classmethod
    def from_settings(cls, settings: Settings) -> BackfillStore:
        return cls(table_client(settings, BACKFILLS))

    def get(self, connection_id: str) -> Backfill | None:
        try:
            entity = self._table.get_entity(connection_id, ROW_KEY)
        except ResourceNotFoundError:
            return None
        return _from_entity(entity)

    def create(self, job: Backfill, replacing: Backfill | None) -> Backfill:
        """The new job in place of `replacing` (as read: ConcurrencyError if it changed since), or a
        first one (ConcurrencyError if another was started meanwhile)."""
        entity = _entity(job)
        try:
            if replacing is None:
                answer = self._table.create_entity(entity)
            else:
                answer = replace_if_unchanged(self._table, entity, replacing.etag)
        except (ResourceModifiedError, ResourceNotFoundError, ResourceExistsError) as lost:
            raise ConcurrencyError("another backfill was started or changed at the same time") from lost
        return replace(job, etag=answer["etag"])

    def save(self, job: Backfill) -> Backfill:
        """ConcurrencyError when the row changed since `job` was read."""
        try:
            answer = replace_if_unchanged(self._table, _entity(job), job.etag)
        except (ResourceModifiedError, ResourceNotFoundError) as lost:
            raise ConcurrencyError(f"backfill of {job.connection_id} changed meanwhile") from lost
        return replace(job, etag=answer["etag"])

    def update(
        self, connection_id: str, mutate: Callable[[Backfill], Backfill | None], retries: int = 8
    ) -> Backfill | None:
        """Read, apply `mutate` (None: leave the row as it is), save; read again after a lost race."""
        for _ in range(retries):
            job = self.get(connection_id)
            if job is None:
                return None
            changed = mutate(job)
            if changed is None:
                return job
            try:
                return self.save(changed)
            except ConcurrencyError:
                continue
        raise ConcurrencyError(f"backfill of {connection_id}: {retries} writes in a row lost their race")

    def delete(self, connection_id: str) -> None:
        try:
            self._table.delete_entity(connection_id, ROW_KEY)
        except ResourceNotFoundError:
            pass


def _entity(job: Backfill) -> dict[str, Any]:
    return {
        "PartitionKey": job.connection_id,
        "RowKey": ROW_KEY,
        "job_id": job.job_id,
        "status": job.status,
        "date_from": job.date_from,
        "date_to": job.date_to,
        "status_reasons": ",".join(str(s) for s in job.status_reasons),
        "total": job.total,
        "started_at": job.started_at.isoformat(),
        "step": job.step,
        "kicked": job.kicked,
        "cursor": job.cursor,
        "created": job.created,
        "matched": job.matched,
        "failed": job.failed,
        "skipped": job.skipped,
        "xero_calls": job.xero_calls,
        "problems": json.dumps([[p.invoice_number, p.reason] for p in job.problems[-KEPT_PROBLEMS:]]),
        "lease_owner": job.lease_owner,
        "lease_until": job.lease_until.isoformat() if job.lease_until else "",
        "finished_at": job.finished_at.isoformat() if job.finished_at else "",
        "message": job.message[:2000],
    }


def _from_entity(entity: Any) -> Backfill:
    reasons = str(entity.get("status_reasons") or "")
    return Backfill(
        connection_id=str(entity["PartitionKey"]),
        job_id=str(entity["job_id"]),
        status=entity["status"],
        date_from=str(entity["date_from"]),
        date_to=str(entity["date_to"]),
        status_reasons=tuple(int(s) for s in reasons.split(",") if s.strip()),
        total=int(entity.get("total") or 0),
        started_at=datetime.fromisoformat(str(entity["started_at"])),
        step=int(entity.get("step") or 0),
        kicked=int(entity.get("kicked") or 0),
        cursor=str(entity.get("cursor") or ""),
        created=int(entity.get("created") or 0),
        matched=int(entity.get("matched") or 0),
        failed=int(entity.get("failed") or 0),
        skipped=int(entity.get("skipped") or 0),
        xero_calls=int(entity.get("xero_calls") or 0),
        problems=[Problem(str(n), str(r)) for n, r in json.loads(str(entity.get("problems") or "[]"))],
        lease_owner=str(entity.get("lease_owner") or ""),
        lease_until=_moment(entity.get("lease_until")),
        finished_at=_moment(entity.get("finished_at")),
        message=str(entity.get("message") or ""),
        etag=entity.metadata.get("etag") if hasattr(entity, "metadata") else None,
    )


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None
