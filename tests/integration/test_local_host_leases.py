"""The local host's queue leases (renewed while an invocation runs, gone when the host dies) and the
`AzureWebJobs.<name>.Disabled` app setting, on a real Azurite."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

from local.host.host import Host
from local.host.leases import Leases

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue(storage_connection: str, unique_name: str) -> QueueClient:
    client = QueueClient.from_connection_string(storage_connection, unique_name)
    client.create_queue()
    return client


def _take(queue: QueueClient, lease: int) -> object:
    return next(iter(queue.receive_messages(max_messages=1, visibility_timeout=lease)))


def test_a_renewed_lease_keeps_a_long_invocation_s_message_hidden_and_it_can_still_be_deleted(
    queue: QueueClient,
) -> None:
    # GIVEN a message taken with a 2 s lease, and renewals running
    queue.send_message("long job")
    leases = Leases(queue, seconds=2)
    message = _take(queue, 2)
    leases.hold(message)  # type: ignore[arg-type]
    stop = threading.Event()
    renewer = threading.Thread(target=leases.run_renewals, args=(stop,))
    renewer.start()
    try:
        # WHEN the invocation runs for twice the lease
        time.sleep(4)
        # THEN nobody else could take the message meanwhile
        assert list(queue.receive_messages(max_messages=1, visibility_timeout=1)) == []
    finally:
        stop.set()
        renewer.join()
    # and finishing it uses the renewed receipt: the message is gone for good
    leases.finish(message.id, "delete")  # type: ignore[attr-defined]
    time.sleep(2.5)
    assert queue.get_queue_properties().approximate_message_count == 0


def test_a_lease_nobody_renews_runs_out_and_the_message_comes_back(queue: QueueClient) -> None:
    # GIVEN a message taken with a 1 s lease by a host that then died (no renewals)
    queue.send_message("orphan")
    _take(queue, 1)
    # WHEN the lease has run out THEN another host gets it, on its second delivery
    time.sleep(1.5)
    again = list(queue.receive_messages(max_messages=1, visibility_timeout=5))
    assert [(m.content, m.dequeue_count) for m in again] == [("orphan", 2)]


def test_a_function_disabled_by_its_app_setting_is_not_served(
    storage_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the connector's app with its queue function switched off, as an Azure app setting does it
    monkeypatch.setenv("AzureWebJobs.invoice_push.Disabled", "true")
    host = Host(ROOT, "function_app:app", port=0)
    # WHEN the host indexes it
    host.prepare()
    try:
        names = {spec.name for spec in host.functions}
    finally:
        host.close_unstarted()
    # THEN that function is not served, and the others are
    assert "invoice_push" not in names
    assert {"invoice_push_poison", "dynamics_webhook"} <= names
