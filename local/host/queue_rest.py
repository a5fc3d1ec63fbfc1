"""The local host's two most frequent queue calls — receive (every poll) and delete (every message) —
as plain HTTP requests on a kept-alive connection, signed with the storage account's shared key.

Why: in Azure these calls are the Functions host's (.NET) work, not the Python worker's, but the local
host makes them in the same process as the functions, so their cost lands in the figure
bench/push_pipeline.py reads (the host process's CPU time). Through the Azure SDK each costs about
2 ms of CPU (its pipeline, then requests, then urllib3); like this, a fraction. Everything else (update,
send to poison, create) stays on the SDK's QueueClient, which this wraps.

Queue service REST API (Learn): "Get Messages" — GET {queue}/messages?numofmessages=N&visibilitytimeout=S,
answered with a QueueMessagesList; "Delete Message" — DELETE {queue}/messages/{id}?popreceipt=R, 204.
"Authorize with Shared Key": the string to sign, the canonicalized x-ms- headers and resource."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import threading
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.queue import QueueClient, QueueMessage

API_VERSION = "2021-02-12"
TIMEOUT_SECONDS = 30


class LeanQueue:
    """A QueueClient whose receive_messages and delete_message skip the SDK (see the module's docstring);
    every other attribute is the wrapped client's."""

    def __init__(self, client: QueueClient) -> None:
        self._client = client
        parts = urlsplit(client.url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or (443 if self._https else 80)
        self._path = parts.path.rstrip("/")
        credential = client.credential
        self._account = str(credential.account_name)
        self._key = base64.b64decode(credential.account_key)
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def receive_messages(
        self, *, messages_per_page: int, max_messages: int, visibility_timeout: int
    ) -> list[QueueMessage]:
        count = min(32, messages_per_page, max_messages)  # the service's most per call
        query = {"numofmessages": str(count), "visibilitytimeout": str(visibility_timeout)}
        status, body = self._call("GET", f"{self._path}/messages", query)
        if status != 200:
            raise HttpResponseError(f"Get Messages answered {status}: {body[:200]!r}")
        answer = ElementTree.fromstring(body)  # noqa: S314 - the app's own storage account answers
        return [_message(element) for element in answer.iter("QueueMessage")]

    def delete_message(self, message_id: str, pop_receipt: str) -> None:
        status, body = self._call(
            "DELETE", f"{self._path}/messages/{message_id}", {"popreceipt": pop_receipt}
        )
        if status == 404:
            raise ResourceNotFoundError(f"Delete Message answered 404: {body[:200]!r}")
        if status != 204:
            raise HttpResponseError(f"Delete Message answered {status}: {body[:200]!r}")

    def _call(self, method: str, path: str, query: dict[str, str]) -> tuple[int, bytes]:
        headers = {"x-ms-date": format_datetime(datetime.now(UTC), usegmt=True), "x-ms-version": API_VERSION}
        headers["Authorization"] = (
            f"SharedKey {self._account}:{self._signature(method, path, query, headers)}"
        )
        target = path + "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in query.items())
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more, anew
            connection = self._connection()
            try:
                connection.request(method, target, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = kind(self._host, self._port, timeout=TIMEOUT_SECONDS)
            self._local.connection = connection
        return connection

    def _signature(self, method: str, path: str, query: dict[str, str], headers: dict[str, str]) -> str:
        # Verb, eleven standard headers (none are sent: all empty), the x-ms- headers, the resource.
        canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in sorted(headers))
        resource = f"/{self._account}{path}" + "".join(
            f"\n{name.lower()}:{query[name]}" for name in sorted(query)
        )
        to_sign = method + "\n" * 12 + canonical_headers + resource
        digest = hmac.new(self._key, to_sign.encode("utf-8"), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()


def lean_if_possible(client: QueueClient) -> QueueClient | LeanQueue:
    """LeanQueue for a client authorised by the account's shared key (Azurite, a connection string with
    AccountKey); the SDK's client as it is otherwise (SAS, Entra ID)."""
    credential = client.credential
    if getattr(credential, "account_name", None) and getattr(credential, "account_key", None):
        return LeanQueue(client)
    return client


def _message(element: ElementTree.Element) -> QueueMessage:
    def text(tag: str) -> str:
        return element.findtext(tag) or ""

    def moment(tag: str) -> datetime | None:
        return parsedate_to_datetime(text(tag)) if text(tag) else None

    return QueueMessage(
        text("MessageText"),
        id=text("MessageId"),
        inserted_on=moment("InsertionTime"),
        expires_on=moment("ExpirationTime"),
        dequeue_count=int(text("DequeueCount") or 0),
        pop_receipt=text("PopReceipt"),
        next_visible_on=moment("TimeNextVisible"),
    )
