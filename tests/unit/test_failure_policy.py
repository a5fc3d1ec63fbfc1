"""One table says what a failed push does to its queue message, and the normal path and the poison
queue's last try both follow it (issue 17: failure policy used to be decided in five places)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from shared.errors import FatalError, NotFoundError, ReconnectRequired, RetriableError
from shared.store.models import Connection
from shared.sync.coalesce import InvoiceGate
from shared.sync.event_log import event_log
from shared.sync.events import InvoiceEvent
from shared.sync.failure_policy import KINDS, MAX_DEFERRALS, POLICY, Decision, decide, kind_of
from shared.sync.worker import Collaborators, handle_invoice_message, handle_poison_message

CONNECTION, INVOICE = "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "7c9e6679-7425-40de-944b-e07fc1f90ae7"

ONE_OF_EACH: dict[str, RetriableError | FatalError] = {
    "wait": RetriableError("Xero: rate limit", retry_after=30),
    "transient": RetriableError("Dynamics could not read the invoice (HTTP 503)"),
    "reconnect": ReconnectRequired("dynamics", "the sign-in was refused"),
    "fatal": NotFoundError("Dynamics could not read the invoice: not found"),
}


def test_every_kind_has_exactly_one_decision() -> None:
    assert set(POLICY) == set(KINDS) == set(ONE_OF_EACH)
    assert {kind: POLICY[kind] for kind in KINDS} == {
        "wait": Decision.DEFER,
        "transient": Decision.RETRY,
        "reconnect": Decision.COMPLETE,
        "fatal": Decision.COMPLETE,
    }
    assert {kind_of(error) for error in ONE_OF_EACH.values()} == set(KINDS)
    assert kind_of(FatalError("bad configuration")) == "fatal"


@pytest.mark.parametrize("kind", KINDS)
def test_the_poison_path_follows_the_same_table_and_only_a_retry_becomes_poison(kind: str) -> None:
    error = ONE_OF_EACH[kind]
    normal, last = decide(error, last_try=False), decide(error, last_try=True)
    assert normal == POLICY[kind_of(error)]
    assert last == (Decision.POISON if normal is Decision.RETRY else normal)


def test_a_wait_after_too_many_waits_is_poison_on_either_path() -> None:
    error = ONE_OF_EACH["wait"]
    assert decide(error, last_try=False, deferrals=MAX_DEFERRALS - 1) is Decision.DEFER
    for last_try in (False, True):
        assert decide(error, last_try=last_try, deferrals=MAX_DEFERRALS) is Decision.POISON


# -- the worker carries the decision out, the same way on both paths ------------------------------------


class Rows:
    def get(self, connection_id: str) -> Connection | None:
        return Connection(id=connection_id, account_id="account-1", status="active")


class RefusingDynamics:
    """Dataverse answering every read with the same classified failure."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get(self, path: str) -> dict[str, Any]:
        raise self.error

    def update(self, entity_set: str, record_id: str, values: dict[str, Any]) -> None:
        raise AssertionError("nothing can be written when nothing could be read")


class Activity:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str]] = []

    def record(
        self, connection_id: str, invoice_id: str, number: str, outcome: str, message: str = ""
    ) -> None:
        self.rows.append((outcome, message))

    def record_if_first(self, connection_id: str, invoice_id: str, outcome: str, message: str) -> bool:
        self.rows.append((outcome, message))
        return True


def _run(error: Exception, poison: bool, deferrals: int = 0) -> tuple[str, list[int], Activity]:
    requeued: list[int] = []
    activity = Activity()
    parts = Collaborators(
        connections=Rows(),
        dataverse_for=lambda connection: cast(Any, RefusingDynamics(error)),
        xero_for=lambda connection: cast(Any, None),
        catalog=cast(Any, None),
        activity=cast(Any, activity),
        requeue=lambda body, delay: requeued.append(delay),
        now=lambda: datetime.now(UTC),
        gate=InvoiceGate(),
    )
    body = InvoiceEvent(CONNECTION, INVOICE, received_at="2000-01-01T00:00:00+00:00", deferrals=deferrals)
    if poison:
        return handle_poison_message(body.to_json(), "invocation-p", parts), requeued, activity
    return handle_invoice_message(body.to_json(), 1, "invocation-n", parts), requeued, activity


@pytest.mark.parametrize(
    ("kind", "outcome"), [("wait", "deferred"), ("reconnect", "reconnect"), ("fatal", "failed")]
)
def test_both_paths_carry_out_the_same_decision(kind: str, outcome: str) -> None:
    normal, last = _run(ONE_OF_EACH[kind], poison=False), _run(ONE_OF_EACH[kind], poison=True)
    assert normal[0] == last[0] == outcome
    assert normal[1] == last[1] == ([30] if kind == "wait" else [])
    # a wait is shown on the Activity page as waiting (issue 19), once per event
    waiting = [("waiting", f"Waiting 30 s, as asked: {ONE_OF_EACH['wait']}")]
    expected = waiting if kind == "wait" else [("failed", str(ONE_OF_EACH[kind]))]
    assert normal[2].rows == last[2].rows == expected


def test_a_transient_failure_is_retried_by_the_queue_with_its_reason_kept() -> None:
    with pytest.raises(RetriableError):
        _run(ONE_OF_EACH["transient"], poison=False)


def test_too_many_waits_give_up_on_both_paths_and_say_why() -> None:
    for poison in (False, True):
        outcome, requeued, activity = _run(ONE_OF_EACH["wait"], poison, deferrals=MAX_DEFERRALS)
        assert (outcome, requeued) == ("failed", [])
        [(recorded, message)] = activity.rows
        assert recorded == "failed" and f"wait {MAX_DEFERRALS} times in a row" in message


def test_the_log_context_travels_with_every_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="test.event_log")
    event = InvoiceEvent(CONNECTION, INVOICE)
    elog = event_log(logging.getLogger("test.event_log"), event, "invocation-9", dequeue_count=3)
    elog.info("pushed %s", "xero-1")
    elog.last_try().info("pushed")
    first, second = caplog.records
    assert first.getMessage() == (
        f"connection {CONNECTION} invoice {INVOICE} invocation invocation-9 dequeue_count 3: pushed xero-1"
    )
    assert second.getMessage().endswith("dequeue_count 3 (last try): pushed")
    assert (first.connection_id, first.invoice_id, first.invocation_id, first.dequeue_count) == (  # type: ignore[attr-defined]
        CONNECTION,
        INVOICE,
        "invocation-9",
        3,
    )


# -- the Xero events queue follows the same table (nothing to write on there: poison ends in a log) -----


class RefusingTenant:
    """The connection table answering the organisation's lookup with the same classified failure."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def list_for_xero_tenant(self, tenant_id: str) -> list[Connection]:
        raise self.error


def _inbound(error: Exception, deferrals: int = 0) -> tuple[str, list[int]]:
    from shared.xero_inbound.apply import InboundParts, handle_xero_message
    from shared.xero_inbound.messages import XeroInvoicesMessage

    requeued: list[int] = []
    parts = InboundParts(
        connections=RefusingTenant(error),
        dataverse_for=lambda connection: cast(Any, None),
        xero_for=lambda connection: cast(Any, None),
        requeue=lambda body, delay: requeued.append(delay),
    )
    body = XeroInvoicesMessage("c2cc9b6e-9458-4c7d-93cc-f02b81b0594f", (INVOICE,), deferrals=deferrals)
    return handle_xero_message(body.to_json(), "invocation-x", parts).result, requeued


def test_the_xero_events_queue_carries_out_the_same_table() -> None:
    assert _inbound(ONE_OF_EACH["wait"]) == ("deferred", [30])
    assert _inbound(ONE_OF_EACH["wait"], deferrals=MAX_DEFERRALS) == ("failed", [])
    assert _inbound(ONE_OF_EACH["reconnect"]) == ("failed", [])
    assert _inbound(ONE_OF_EACH["fatal"]) == ("failed", [])
    with pytest.raises(RetriableError):
        _inbound(ONE_OF_EACH["transient"])
