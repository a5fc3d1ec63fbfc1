"""The local host's own receive and delete (local/host/queue_rest.py) against a real Azurite: the same
messages, fields and errors as through the Azure SDK, signed with the account key (a wrong key is refused)."""

from __future__ import annotations

import base64

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.queue import QueueClient

from local.host.queue_rest import LeanQueue, lean_if_possible


@pytest.fixture
def queue(storage_connection: str, unique_name: str) -> QueueClient:
    client = QueueClient.from_connection_string(storage_connection, unique_name, use_env_settings=False)
    client.create_queue()
    return client


def test_received_messages_carry_what_the_sdk_gives_and_are_deleted_by_their_receipt(
    queue: QueueClient,
) -> None:
    texts = ["eyJhIjogMX0=", "plain <text> & 'quotes' é"]
    for text in texts:
        queue.send_message(text)
    lean = lean_if_possible(queue)
    assert isinstance(lean, LeanQueue)

    received = lean.receive_messages(messages_per_page=16, max_messages=16, visibility_timeout=30)

    assert sorted(m.content for m in received) == sorted(texts)
    first = received[0]
    assert first.dequeue_count == 1 and first.pop_receipt and first.id
    assert first.inserted_on is not None and first.next_visible_on is not None
    assert first.inserted_on < first.next_visible_on and first.expires_on is not None
    assert lean.receive_messages(messages_per_page=16, max_messages=16, visibility_timeout=30) == []
    for message in received:
        lean.delete_message(message.id, str(message.pop_receipt))
    with pytest.raises(ResourceNotFoundError):
        lean.delete_message(first.id, str(first.pop_receipt))  # already gone
    assert queue.get_queue_properties().approximate_message_count == 0
    assert lean.url == queue.url  # everything else is the SDK client's


def test_a_request_signed_with_another_key_is_refused(queue: QueueClient) -> None:
    queue.send_message("kept")
    lean = LeanQueue(queue)
    lean._key = base64.b64decode(base64.b64encode(b"not the account key"))  # noqa: SLF001 - the attack

    with pytest.raises(HttpResponseError, match="403"):
        lean.receive_messages(messages_per_page=1, max_messages=1, visibility_timeout=30)
    assert queue.get_queue_properties().approximate_message_count == 1
