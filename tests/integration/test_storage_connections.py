"""Storage calls from many threads at once reuse kept connections: none is opened for one call and
dropped, which in Azure costs a TLS handshake per storage call."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from shared.config import Settings
from shared.storage import connection_pool, queue_client, table_service

IN_FLIGHT = 32  # more than the SDK's 10 per client; what a worker runs at once plus webhooks


def test_parallel_table_and_queue_calls_keep_every_connection(
    storage_connection: str, unique_name: str
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

    opened_before = connection_pool().opened
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        list(pool.map(calls, range(IN_FLIGHT)))

    # At most one connection per thread and service, each kept: 192 calls, never one per call.
    assert connection_pool().opened - opened_before <= 2 * IN_FLIGHT
    assert queue.get_queue_properties().approximate_message_count == 3 * IN_FLIGHT
