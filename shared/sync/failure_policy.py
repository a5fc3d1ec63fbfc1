"""What a failed invoice push means for its queue message: one table, for the normal and the poison path.

The clients classify their own answers into the connector's kinds of failure (shared/errors.py:
`shared/xero/errors.py` for Xero, `shared/dataverse/client_errors.py` for Dynamics). This module is the one
place that says what each kind does to the message; shared/sync/worker.py only carries the decision out.

- complete: the message ends here and the reason is recorded (nothing to write it on, or retrying cannot
  help: the portal's activity and status light say it);
- defer: a copy goes back on the queue, invisible for the server's wait, and this one completes — a wait
  does not count towards poisoning, but past MAX_DEFERRALS waits the event gives up (poison);
- retry: raise, and the host redelivers after host.json's visibilityTimeout;
- poison: the retries ran out (or the waits did): the reason is written on the invoice.

The poison path uses the same table: only "retry" changes meaning there, since no retry is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, get_args

from shared.errors import FatalError, ReconnectRequired, RetriableError

# Waits one event may take. Xero's day limit is one long wait; its minute limit is a wait per minute of
# backlog, and 5,000 calls a day is at most ~85 such minutes; so 200 is never reached by honest limits.
MAX_DEFERRALS = 200


class Decision(StrEnum):
    COMPLETE = "complete"
    DEFER = "defer"
    RETRY = "retry"
    POISON = "poison"


# wait: retriable with a Retry-After (a rate limit, or the pacing's "wait for the minute");
# transient: retriable without one (5xx, timeouts, a dropped connection);
# reconnect: a side refused our sign-in; fatal: any other refusal (missing record, no access).
Kind = Literal["wait", "transient", "reconnect", "fatal"]
KINDS: tuple[Kind, ...] = get_args(Kind)

POLICY: Mapping[Kind, Decision] = MappingProxyType(
    {
        "wait": Decision.DEFER,
        "transient": Decision.RETRY,
        "reconnect": Decision.COMPLETE,
        "fatal": Decision.COMPLETE,
    }
)

Failure = RetriableError | FatalError


def kind_of(error: Failure) -> Kind:
    if isinstance(error, RetriableError):
        return "wait" if error.retry_after is not None else "transient"
    if isinstance(error, ReconnectRequired):  # before FatalError: it is one
        return "reconnect"
    if isinstance(error, FatalError):
        return "fatal"
    raise TypeError(f"not a failure the policy knows: {type(error).__name__}")


def decide(error: Failure, *, last_try: bool, deferrals: int = 0) -> Decision:
    """The table's decision for `error`. On the last try (the poison queue) a retry is no longer
    possible, so it becomes poison; a wait after MAX_DEFERRALS waits becomes poison on either path."""
    decision = POLICY[kind_of(error)]
    if decision is Decision.RETRY and last_try:
        return Decision.POISON
    if decision is Decision.DEFER and deferrals >= MAX_DEFERRALS:
        return Decision.POISON
    return decision
