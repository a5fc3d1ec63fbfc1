"""Right after Install into Dynamics the Xero id keys are still being built (Dataverse builds a new key's
index in the background: Pending, then Active). The first reference refresh must wait for them — deferred,
nothing written, no failure shown — and the next one fills the tables.

Install into Dynamics itself runs as a queued run (shared/connections/install_job.py), here against the
sandbox Dataverse and a real Azurite queue: it waits for keys Dynamics is still building without holding
an invocation, a second click starts nothing, and a run killed in the middle of a step resumes without
duplicating any component."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import azure.functions as func
import pytest
import requests

from local.azurite import Azurite
from local.host.invoker import InvocationContext
from shared import bootstrap
from shared.connections.dynamics_access import dataverse_client_for
from shared.connections.install_job import (
    KEYS_STEP,
    AlreadyRunning,
    InstallParts,
    handle_install_message,
    start_install,
    step_titles,
)
from shared.connections.install_service import install_into_dynamics
from shared.dataverse import install_plan as plan
from shared.http import make_session
from shared.reference.worker import refresh_message
from shared.store.models import Connection, utc_now
from tests.app_index import user_function
from tests.support.stack import LocalStack

BUILD_SECONDS = 3.0
KEY_BUILD_SECONDS = 2.0


@pytest.fixture(scope="module")
def stack(azurite: Azurite) -> Iterator[LocalStack]:
    stack = LocalStack(prefix="keys" + uuid.uuid4().hex[:8], azurite=azurite).start(with_host=False)
    try:
        yield stack
    finally:
        stack.stop()


def _deliver(body: str) -> None:
    context = InvocationContext("reference_refresh", "functions/reference_refresh.py")
    user_function("reference_refresh")(func.QueueMessage(body=body.encode()), context)


def _tax_rates(stack: LocalStack) -> list[dict[str, object]]:
    session = requests.Session()
    session.trust_env, session.verify = False, str(stack.dataverse.ca_path)
    url = f"{stack.dataverse.url}/_sandbox/rows/contoso/dxc_xerotaxrates"
    return list(session.get(url, timeout=10).json()["value"])


def test_the_first_refresh_waits_for_the_keys_then_the_next_fills_the_tables(stack: LocalStack) -> None:
    # GIVEN an environment whose new keys take a few seconds to build, and the connector installed into it
    stack.dataverse.limits.update({"key_build_seconds": BUILD_SECONDS})
    connection = stack.onboard("account-keys")
    queue = bootstrap.worker().reference_queue()
    queue.clear_messages()
    # WHEN the refresh runs at once
    _deliver(refresh_message(connection.id))
    # THEN it wrote nothing, failed nothing, and put itself back on the queue for later
    assert _tax_rates(stack) == []
    waiting = bootstrap.worker().connections().require(connection.id).reference
    assert waiting.last_refresh_at is None and "still building the Xero id key" in waiting.last_error
    deferred = queue.peek_messages() or []
    assert deferred == []  # invisible for now: it comes back once the keys should be ready
    assert (queue.get_queue_properties().approximate_message_count or 0) == 1
    # WHEN the keys are Active and the refresh runs again
    time.sleep(BUILD_SECONDS)
    _deliver(refresh_message(connection.id))
    # THEN the tables are filled and the refresh recorded without an error
    assert len(_tax_rates(stack)) > 3
    done = bootstrap.worker().connections().require(connection.id).reference
    assert done.last_refresh_at is not None and done.last_error == ""


def test_a_key_whose_build_failed_is_named_and_install_again_rebuilds_it(stack: LocalStack) -> None:
    # GIVEN an environment where the keys' index builds fail
    stack.dataverse.limits.update({"key_build_seconds": 0.0, "key_build_fails": True})
    connection = stack.onboard("account-failed-keys", "Demo Company (AU)", dynamics_env="contoso-sandbox")
    # WHEN the refresh runs, it fails and says what fixes it
    _deliver(refresh_message(connection.id))
    failed = bootstrap.worker().connections().require(connection.id).reference
    assert "is Failed in Dynamics" in failed.last_error and "Install into Dynamics" in failed.last_error
    # WHEN the customer installs again (and the build succeeds this time)
    stack.dataverse.limits.update({"key_build_fails": False})
    store, settings = bootstrap.worker().connections(), bootstrap.worker().settings
    client = dataverse_client_for(store.require(connection.id), store, settings, bootstrap.worker().session())
    outcome = install_into_dynamics(store, store.require(connection.id), client, settings)
    # THEN install asked Dynamics to rebuild each key, and the next refresh fills the tables
    assert sum("build the key" in change for change in outcome.changes) == 6
    _deliver(refresh_message(connection.id))
    done = bootstrap.worker().connections().require(connection.id).reference
    assert done.last_error == "" and done.last_refresh_at is not None


class _Killed(BaseException):
    """The worker process dies: nothing of ours catches it, as nothing runs after a kill."""


def _parts(session: requests.Session | None = None, lease: timedelta = timedelta(minutes=2)) -> InstallParts:
    queue, store = bootstrap.worker().install_queue(), bootstrap.worker().connections()
    settings = dataclasses.replace(bootstrap.worker().settings, install_key_wait_seconds=1)
    chosen = session or bootstrap.worker().session()
    return InstallParts(
        connections=store,
        dataverse_for=lambda c: dataverse_client_for(c, store, settings, chosen),
        send=lambda body, delay: queue.send_message(body, visibility_timeout=delay or None),
        now=utc_now,
        settings=settings,
        lease=lease,
    )


def _start(connection: Connection) -> None:
    queue = bootstrap.worker().install_queue()

    def send(body: str, delay: int) -> object:
        return queue.send_message(body, visibility_timeout=delay or None)

    start_install(bootstrap.worker().connections(), connection.account_id, connection.id, send, utc_now)


def _deliver_next(parts: InstallParts, invocation: str) -> str | None:
    """One delivery as the queue trigger gets it: received, handled, then deleted (none visible: None)."""
    queue = bootstrap.worker().install_queue()
    for message in queue.receive_messages(max_messages=1, visibility_timeout=30):
        outcome = handle_install_message(message.content, invocation, parts)
        queue.delete_message(message)
        return outcome
    return None


def _components(stack: LocalStack, env: str, connection_id: str) -> dict[str, Any]:
    """What the install made that a second attempt could duplicate (names are unique per table, so tables,
    columns and keys cannot be): the webhook, its steps and images, and solution memberships."""
    rows = stack.dataverse.state.rows
    [endpoint] = [e for e in rows(env, "serviceendpoints") if e["name"] == plan.endpoint_name(connection_id)]
    steps = [s for s in rows(env, "sdkmessageprocessingsteps") if endpoint["serviceendpointid"] in str(s)]
    step_ids = {s["sdkmessageprocessingstepid"] for s in steps}
    images = [i for i in rows(env, "sdkmessageprocessingstepimages") if any(x in str(i) for x in step_ids)]
    members = Counter((c.get("objectid"), repr(c.get("solutionid"))) for c in rows(env, "solutioncomponents"))
    return {
        "steps": len(steps),
        "images": len(images),
        "duplicate memberships": [k for k, n in members.items() if n > 1],
        "publishers": len([p for p in rows(env, "publishers") if p.get("customizationprefix") == "dxc"]),
        "solutions": len([s for s in rows(env, "solutions") if s.get("uniquename") == plan.SOLUTION]),
    }


PLANNED = {
    "steps": len(plan.STEPS),
    "images": sum(len(step.images) for step in plan.STEPS),
    "duplicate memberships": [],
    "publishers": 1,
    "solutions": 1,
}


def test_install_waits_for_pending_keys_on_the_queue_and_a_second_click_starts_nothing(
    stack: LocalStack,
) -> None:
    # GIVEN a fresh environment whose new keys stay Pending for a while, a connection not yet installed
    stack.dataverse.reset()
    stack.dataverse.limits.update({"key_build_seconds": KEY_BUILD_SECONDS})
    connection = stack.onboard("acct-wait", install=False)
    store, parts = bootstrap.worker().connections(), _parts()
    # WHEN Install is clicked, and clicked again while the run is queued
    _start(connection)
    run = store.require(connection.id).install
    assert (run.state, run.steps_done, run.steps_total) == ("queued", 0, len(step_titles()))
    with pytest.raises(AlreadyRunning):
        _start(connection)
    # THEN one run, one message
    assert store.require(connection.id).install.run_id == run.run_id
    assert bootstrap.worker().install_queue().get_queue_properties().approximate_message_count == 1
    # WHEN the queue function takes the message: every metadata step, then the keys are still Pending
    assert _deliver_next(parts, "inv-1") == "waiting"
    waiting = store.require(connection.id).install
    assert waiting.state == "waiting" and waiting.step.startswith(KEYS_STEP)
    assert waiting.steps_done == step_titles().index(KEYS_STEP) and waiting.lease_holder == ""
    # ... its message is back on the queue, invisible for the wait: nothing holds an invocation meanwhile
    assert _deliver_next(parts, "inv-2") is None
    assert bootstrap.worker().install_queue().get_queue_properties().approximate_message_count == 1
    assert not store.require(connection.id).dynamics.webhook_registered
    # WHEN the keys are Active and the message comes back
    deadline, outcome = time.monotonic() + KEY_BUILD_SECONDS + 10, None
    while outcome != "done" and time.monotonic() < deadline:
        outcome = _deliver_next(parts, "inv-3") or outcome
        time.sleep(0.3)
    # THEN the run is done: webhook registered with its key, every component once
    done = store.require(connection.id)
    assert (done.install.state, done.install.steps_done, done.install.error) == (
        "done",
        len(step_titles()),
        "",
    )
    assert done.install.changes > 10
    assert done.dynamics.webhook_registered and done.dynamics.webhook_key_hash
    assert _components(stack, "contoso", connection.id) == PLANNED
    # ... and a click after it starts a new run (a repair), which is allowed
    _start(connection)
    assert store.require(connection.id).install.run_id != run.run_id
    stack.dataverse.limits.update({"key_build_seconds": 0.0})


def test_a_run_killed_mid_step_resumes_where_it_was_without_duplicates(stack: LocalStack) -> None:
    # GIVEN a fresh environment and a worker that dies right after Dynamics created the first webhook step
    stack.dataverse.reset()
    connection = stack.onboard("acct-kill", dynamics_env="contoso-sandbox", install=False)
    store = bootstrap.worker().connections()
    dying = make_session(bootstrap.worker().settings)
    real_request = dying.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        answer = real_request(method, url, *args, **kwargs)
        if method == "POST" and url.endswith("/sdkmessageprocessingsteps") and answer.ok:
            raise _Killed()
        return answer

    dying.request = request  # type: ignore[method-assign]
    bootstrap.worker().install_queue().clear_messages()
    _start(connection)
    body = bootstrap.worker().install_queue().peek_messages()[0].content
    # WHEN the first delivery is killed in the middle of the webhook step (its message not deleted)
    with pytest.raises(_Killed):
        handle_install_message(body, "inv-killed", _parts(dying, lease=timedelta(seconds=3)))
    killed = store.require(connection.id).install
    assert killed.state == "running" and killed.step == "Registering the webhook, its steps and their images"
    assert killed.lease_holder == "inv-killed"
    # ... a duplicate delivery meanwhile does not work alongside: it looks again after the lease
    assert handle_install_message(body, "inv-duplicate", _parts()) == "busy"
    # ... and once the dead worker's lease ran out, the redelivered message resumes the run
    assert killed.lease_until is not None
    time.sleep(max(0.0, (killed.lease_until - utc_now()).total_seconds()) + 0.1)
    assert handle_install_message(body, "inv-redelivered", _parts()) == "done"
    # THEN every component exists once, the key stored, and a full install finds nothing to do
    done = store.require(connection.id)
    assert done.install.state == "done" and done.dynamics.webhook_key_hash
    assert _components(stack, "contoso-sandbox", connection.id) == PLANNED
    client = dataverse_client_for(done, store, bootstrap.worker().settings, bootstrap.worker().session())
    again = install_into_dynamics(store, done, client, bootstrap.worker().settings)
    assert again.changes == [] and again.problems == []
    # ... and the duplicate's message, when it comes back, changes nothing
    assert handle_install_message(body, "inv-late", _parts()) == "stale"
