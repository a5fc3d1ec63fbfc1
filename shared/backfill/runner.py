"""The backfill's queue side: one message = one page. A message names the job and the page number it is
for; the row in the backfills table says which page is next, so a copy of a message (the queue delivers
at least once) for a page already done is dropped, and a page is never done twice at the same time.

- The page is taken under a lease on the row (ETag-conditional): a second copy that finds it leased waits
  until the lease would have run out, then looks again (done: dropped; not done: its holder died, so it
  does the page itself). A kill mid-page leaves the row as it was before the page: the redelivered
  message does the page again, and Xero's Idempotency-Key and the lookups of pages.py make that a replay,
  not a second set of invoices.
- After a page: the row moves to the next page (the counts with it), THEN the next message is sent and
  the row notes it was sent. A death between those two is healed by the page's own message coming back:
  it finds the next page not yet announced and sends it.
- Live pushes come first: the page's Xero calls are the lowest class of the organisation's budget
  shared by every instance (shared/xero/budget.py, Priority.BULK: never the minute's last calls, refused
  while a live push waits for the minute), and while live pushes pile up on their queue the page waits
  too (a delayed copy of its message, never a sleep).
- Stop: the portal sets the row to stopped; a page under way finishes and writes its results, and no next
  message is sent."""

from __future__ import annotations

import json
import logging
import math
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from shared.backfill.page import PageResult, PageRun
from shared.backfill.query import Selection
from shared.errors import ConcurrencyError, FatalError, ReconnectRequired, RetriableError
from shared.store.backfills import KEPT_PROBLEMS, Backfill, BackfillStore, Status
from shared.store.models import Connection
from shared.sync.item_catalog import ItemCatalog
from shared.sync.organisation import BOOK, OrganisationBook
from shared.sync.write_back import Dataverse
from shared.xero.accounting import XeroAccounting
from shared.xero.budget import Priority
from shared.xero.pacing import RateGate

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)  # longer than a page takes (one Dataverse read, a few Xero calls, one $batch)
YIELD_SECONDS = 5  # how long a page waits while live pushes wait on the queue
# A page waits while the live queue holds more than a host takes at once (host.json batchSize): live
# pushes are waiting for a worker, not just being worked. Their Xero calls never wait for the backfill's
# (the budget's classes), so this only keeps the backfill's pages from taking the workers they need.
LIVE_BACKLOG = 16
# The live queue is every connection's: after this many waits in a row a page goes anyway, so another
# organisation's backlog (or a push deferred for hours by its plan) cannot hold a backfill forever.
MAX_YIELDS = 12
RETRY_SECONDS = 10
OWNER = f"{os.environ.get('WEBSITE_INSTANCE_ID', socket.gethostname())[:40]}:{os.getpid()}"


class BadMessage(ValueError):
    pass


@dataclass(frozen=True)
class PageMessage:
    connection_id: str
    job_id: str
    step: int
    yields: int = 0  # waits in a row for the live pushes

    def to_json(self) -> str:
        return json.dumps(
            {
                "connection_id": self.connection_id,
                "job_id": self.job_id,
                "step": self.step,
                "yields": self.yields,
            }
        )

    @classmethod
    def from_json(cls, body: str) -> PageMessage:
        try:
            data = json.loads(body)
            return cls(
                str(data["connection_id"]), str(data["job_id"]), int(data["step"]), int(data.get("yields", 0))
            )
        except (ValueError, KeyError, TypeError) as error:
            raise BadMessage(f"not a backfill message: {error}") from None


class Connections(Protocol):
    def get(self, connection_id: str) -> Connection | None: ...


@dataclass
class BackfillParts:
    connections: Connections
    jobs: BackfillStore
    dataverse_for: Callable[[Connection], Dataverse]
    xero_for: Callable[[Connection], XeroAccounting]
    catalog: ItemCatalog
    send: Callable[[str, int], Any]  # (message, delay in seconds) onto the backfill queue
    live_backlog: Callable[[], int]  # invoice messages on the live queue (deferred ones included)
    now: Callable[[], datetime]
    pacing: RateGate | None = None
    organisations: OrganisationBook = BOOK
    owner: str = OWNER
    lease: timedelta = LEASE


def handle_backfill_message(body: str, parts: BackfillParts) -> str:
    try:
        message = PageMessage.from_json(body)
    except BadMessage as error:
        log.error("dropped a backfill message: %s", error)
        return "bad-message"
    job = parts.jobs.get(message.connection_id)
    if job is None or job.job_id != message.job_id or job.status != "running":
        return "stale"
    if message.step != job.step:
        if message.step == job.step - 1 and job.kicked < job.step:
            _announce(parts, job)  # the previous page's worker died before sending this page's message
            return "announced"
        return "stale"
    now = parts.now()
    if job.leased_by_other(parts.owner, now):
        assert job.lease_until is not None
        return _later(parts, message, (job.lease_until - now).total_seconds() + 1, "leased")
    connection = parts.connections.get(job.connection_id)
    if connection is None or connection.status != "active":
        _end(
            parts,
            job,
            "failed",
            "the connection is no longer running — start it, then start the backfill again",
        )
        return "no-connection"
    if message.yields < MAX_YIELDS and parts.live_backlog() >= LIVE_BACKLOG:
        return _later(parts, replace(message, yields=message.yields + 1), YIELD_SECONDS, "yielded")
    if parts.pacing is not None:
        try:
            parts.pacing.check(connection.xero.tenant_id, priority=Priority.BULK)
        except RetriableError as wait:
            return _later(parts, message, wait.retry_after or YIELD_SECONDS, "paced")
    return _run(parts, message, job, connection)


def _run(parts: BackfillParts, message: PageMessage, job: Backfill, connection: Connection) -> str:
    try:
        job = parts.jobs.save(replace(job, lease_owner=parts.owner, lease_until=parts.now() + parts.lease))
    except ConcurrencyError as lost:  # the portal stopped it, or another copy took the page: look again
        log.info("backfill %s page %s: the row changed (%s)", job.job_id, job.step, type(lost).__name__)
        return _later(parts, message, 1, "raced")
    try:
        result = _page(parts, job, connection).run()
    except RetriableError as wait:
        _release(parts, job)
        return _later(parts, message, wait.retry_after or RETRY_SECONDS, "deferred")
    except ReconnectRequired as error:
        _end(parts, job, "failed", f"{error} — reconnect, then start the backfill again")
        return "failed"
    except FatalError as error:
        _end(parts, job, "failed", str(error))
        return "failed"
    except Exception:
        _release(parts, job)  # a bug or an outage: the queue redelivers this message
        raise
    committed = _commit(parts, job, result)
    if committed is not None and committed.status == "running":
        _announce(parts, committed)
    log.info("backfill %s page %s: %s", job.job_id, message.step, result)
    return "page"


def _page(parts: BackfillParts, job: Backfill, connection: Connection) -> PageRun:
    selection = Selection(
        date.fromisoformat(job.date_from),
        date.fromisoformat(job.date_to),
        job.status_reasons,
        connection.sync.require_send_flag,
    )
    return PageRun(
        job.job_id, job.step, job.cursor, selection, connection, parts.dataverse_for(connection),
        parts.xero_for(connection), parts.catalog, parts.organisations, parts.now,
    )  # fmt: skip


def _commit(parts: BackfillParts, job: Backfill, result: PageResult) -> Backfill | None:
    """The page's results onto the row; a Stop pressed meanwhile stays stopped. None when another run of
    the page finished it first (its results are there, and it announced the next page)."""
    page_step = job.step

    def apply(current: Backfill) -> Backfill | None:
        if current.job_id != job.job_id or current.step != page_step:
            return None  # another run of this page finished first: its results are there
        finished = result.finished and current.status == "running"
        return replace(
            current,
            step=page_step + 1,
            cursor=result.cursor,
            created=current.created + result.created,
            matched=current.matched + result.matched,
            failed=current.failed + result.failed,
            skipped=current.skipped + result.skipped,
            problems=(current.problems + result.problems)[-KEPT_PROBLEMS:],
            lease_owner="",
            lease_until=None,
            status="done" if finished else current.status,
            finished_at=parts.now() if finished else current.finished_at,
        )

    committed: list[Backfill] = []

    def applied(current: Backfill) -> Backfill | None:
        changed = apply(current)
        committed[:] = [changed] if changed is not None else []
        return changed

    saved = parts.jobs.update(job.connection_id, applied)
    return saved if committed else None


def _announce(parts: BackfillParts, job: Backfill) -> None:
    parts.send(PageMessage(job.connection_id, job.job_id, job.step).to_json(), 0)
    step = job.step

    def note(current: Backfill) -> Backfill | None:
        return (
            replace(current, kicked=step) if current.job_id == job.job_id and current.kicked < step else None
        )

    parts.jobs.update(job.connection_id, note)


def _release(parts: BackfillParts, job: Backfill) -> None:
    def free(current: Backfill) -> Backfill | None:
        if current.lease_owner != parts.owner or current.job_id != job.job_id:
            return None
        return replace(current, lease_owner="", lease_until=None)

    try:
        parts.jobs.update(job.connection_id, free)
    except Exception as error:  # the lease runs out by itself
        log.warning("backfill %s: the lease was not released: %s", job.job_id, type(error).__name__)


def _end(parts: BackfillParts, job: Backfill, status: Status, why: str) -> None:
    def finish(current: Backfill) -> Backfill | None:
        if current.job_id != job.job_id or current.status != "running":
            return None
        return replace(
            current, status=status, message=why, finished_at=parts.now(), lease_owner="", lease_until=None
        )

    parts.jobs.update(job.connection_id, finish)
    log.warning("backfill %s ended (%s): %s", job.job_id, status, why)


def _later(parts: BackfillParts, message: PageMessage, seconds: float, outcome: str) -> str:
    parts.send(message.to_json(), max(1, math.ceil(seconds)))
    return outcome
