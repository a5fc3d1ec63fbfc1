"""Right after Install into Dynamics the Xero id keys are still being built (Dataverse builds a new key's
index in the background: Pending, then Active). The first reference refresh must wait for them — deferred,
nothing written, no failure shown — and the next one fills the tables."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import azure.functions as func
import pytest
import requests

from local.azurite import Azurite
from local.host.invoker import InvocationContext
from shared import bootstrap
from shared.reference.worker import refresh_message
from tests.app_index import user_function
from tests.support.stack import LocalStack

BUILD_SECONDS = 3.0


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
    from shared.connections.dynamics_access import dataverse_client_for
    from shared.connections.install_service import install_into_dynamics

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
