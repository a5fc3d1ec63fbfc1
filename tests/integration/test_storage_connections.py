"""Storage calls from many threads at once reuse kept connections: none is opened for one call and
dropped ("Connection pool is full"), which in Azure costs a TLS handshake per storage call."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.config import Settings
from shared.storage import queue_client, table_service

IN_FLIGHT = 32  # more than the SDK's 10 per client; what a worker runs at once plus webhooks


def test_parallel_table_and_queue_calls_keep_every_connection(
    storage_connection: str, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_env({"AzureWebJobsStorage": storage_connection})
    table = table_service(settings).create_table_if_not_exists(unique_name)
    table.upsert_entity({"PartitionKey": "p", "RowKey": "r", "n": 1})
    queue = queue_client(settings, unique_name)
    queue.create_queue()

    def calls(_: int) -> None:
        for _ in range(3):
            assert table.get_entity("p", "r")["n"] == 1
            queue.send_message("x")

    with (
        caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"),
        ThreadPoolExecutor(IN_FLIGHT) as pool,
    ):
        list(pool.map(calls, range(IN_FLIGHT)))

    assert [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()] == []
    assert queue.get_queue_properties().approximate_message_count == 3 * IN_FLIGHT
