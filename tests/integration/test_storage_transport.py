"""The storage clients' own transport (shared/storage_transport.py): kept connections reused by every
client of the process, a connection the server closed while idle never used again, and failures raised
as the errors the SDK's retry policy knows."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError
from azure.core.pipeline.transport import HttpRequest
from azure.data.tables import TableTransactionError

from local.ports import free_port
from shared.config import Settings
from shared.storage import connection_pool, queue_client, table_service
from shared.storage_transport import ConnectionPool, HttpClientTransport


def test_table_and_queue_calls_reuse_one_kept_connection_per_service(
    storage_connection: str, unique_name: str
) -> None:
    settings = Settings.from_env({"AzureWebJobsStorage": storage_connection})
    table = table_service(settings).create_table_if_not_exists(unique_name)
    queue = queue_client(settings, unique_name)
    queue.create_queue()
    opened_before = connection_pool().opened

    for n in range(20):
        table.upsert_entity({"PartitionKey": "p", "RowKey": "r", "n": n})
        assert table.get_entity("p", "r")["n"] == n
        queue.send_message(f"message {n}")
    with pytest.raises(ResourceNotFoundError):  # an error answer leaves its connection usable too
        table.get_entity("p", "missing")

    # 61 calls: at most one new connection per service (none if an earlier test left one idle).
    assert connection_pool().opened - opened_before <= 2
    bodies = [m.content for m in queue.receive_messages(max_messages=32)]
    assert sorted(bodies) == sorted(f"message {n}" for n in range(20))


@pytest.fixture
def closes_after_each_answer() -> Iterator[tuple[int, list[int]]]:
    """An HTTP/1.1 server that answers one request per connection, then closes it without saying so
    (no `Connection: close`), as a server does with a connection idle past its keep-alive timeout."""
    port = free_port()
    listener = socket.create_server(("127.0.0.1", port))
    served: list[int] = []

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with client:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = client.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                served.append(1)
                body = b'{"n": %d}' % len(served)
                client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port, served
    listener.close()


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    closes_after_each_answer: tuple[int, list[int]],
) -> None:
    port, served = closes_after_each_answer
    pool = ConnectionPool(4, connect_timeout=5, read_timeout=5)
    transport = HttpClientTransport(pool)

    answers = []
    for _ in range(3):
        response = transport.send(HttpRequest("GET", f"http://127.0.0.1:{port}/x?y=1"))
        answers.append((response.status_code, response.text()))
        threading.Event().wait(0.05)  # the server's close reaches us while the connection sits idle

    assert answers == [(200, '{"n": 1}'), (200, '{"n": 2}'), (200, '{"n": 3}')]
    assert pool.opened == 3


def test_nothing_listening_is_a_request_error_the_sdk_retries() -> None:
    transport = HttpClientTransport(ConnectionPool(4, connect_timeout=5, read_timeout=5))
    with pytest.raises(ServiceRequestError):
        transport.send(HttpRequest("GET", f"http://127.0.0.1:{free_port()}/"))


def test_a_table_transaction_goes_through_as_one_multipart_request(
    storage_connection: str, unique_name: str
) -> None:
    """shared/store/activity_days.py writes its day rows as batches: a multipart body and answer."""
    settings = Settings.from_env({"AzureWebJobsStorage": storage_connection})
    table = table_service(settings).create_table_if_not_exists(unique_name)

    answers = table.submit_transaction(
        [("upsert", {"PartitionKey": "p", "RowKey": f"{n:03}", "n": n}) for n in range(50)]
    )
    assert len(answers) == 50
    assert sorted(row["n"] for row in table.query_entities("PartitionKey eq 'p'")) == list(range(50))

    with pytest.raises(TableTransactionError):  # the batch's refusal is read from the multipart answer
        table.submit_transaction([("create", {"PartitionKey": "p", "RowKey": "001", "n": 1})])
