"""An azure-core transport for the storage clients on http.client, with kept-alive connections.

Why: a table or queue call through the SDK's requests transport cost 1.6–2.3 ms of CPU, about 70% of
it in requests and urllib3 (session merging, adapters, urllib3's pool and response wrappers), and a push
makes several. The SDK's pipeline (its signing or managed-identity bearer policy, retries, serialising)
runs unchanged in front of this transport: only the socket work changes, so a connection string and
identity-based auth choose their credentials exactly as before (shared/storage.py).

What it keeps from the requests transport: the connect and read timeouts, certificate checks against
certifi's bundle (what requests uses with trust_env off), no redirects, no retries of its own (the SDK's
policy retries), and the same error kinds: a failure before the request is sent is a
ServiceRequestError, one after is a ServiceResponseError (so the SDK retries them as it did).
Every body is read whole before the connection goes back to the pool; storage tables and queues answer
small bodies and none of our calls streams a download."""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import urllib.parse
from typing import Any

import certifi
from azure.core.exceptions import (
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline._tools import is_rest
from azure.core.pipeline.transport import HttpTransport
from azure.core.pipeline.transport._base import HttpClientTransportResponse
from azure.core.rest._http_response_impl import RestHttpClientTransportResponse

_Key = tuple[str, str, int]


class _ReadResponse:
    """What azure-core's http.client response wrappers read, with the body already read off the socket."""

    def __init__(self, response: http.client.HTTPResponse, body: bytes) -> None:
        self.status = response.status
        self.reason = response.reason
        self._headers = response.getheaders()
        self._body = body

    def getheaders(self) -> list[tuple[str, str]]:
        return self._headers

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body

    def close(self) -> None:
        pass


class ConnectionPool:
    """Idle connections per (scheme, host, port), shared by every client of the process. A connection is
    used by one call at a time: taken from the pool for a call, given back only after its answer was
    read whole (and only when the server keeps it open); at most `size` idle ones are kept per host."""

    def __init__(self, size: int, connect_timeout: float, read_timeout: float) -> None:
        self.size = size
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._idle: dict[_Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        self.opened = 0  # connections opened so far (tests read it)

    def take(self, key: _Key) -> http.client.HTTPConnection:
        """A connection for one call. A kept one the server closed while it sat idle (its socket reads
        as ready: the close, or bytes nobody asked for) is dropped, as urllib3 does before reusing one."""
        while True:
            with self._lock:
                idle = self._idle.get(key)
                kept = idle.pop() if idle else None
                if kept is None:
                    self.opened += 1
                    break
            if kept.sock is not None and not _dropped(kept.sock):
                return kept
            kept.close()
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=self.connect_timeout, context=self._context()
            )
        return http.client.HTTPConnection(host, port, timeout=self.connect_timeout)

    def give_back(self, key: _Key, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.size:
                idle.append(connection)
                return
        connection.close()

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls


class HttpClientTransport(HttpTransport):
    """One per storage client; the pool is the process's (closing a client leaves the pool alone)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def __enter__(self) -> HttpClientTransport:
        return self

    def __exit__(self, *_: Any) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, request: Any, **kwargs: Any) -> Any:
        if getattr(request, "files", None):
            raise ValueError("multipart file uploads are not supported by this transport")
        url = urllib.parse.urlsplit(request.url)
        scheme = url.scheme.lower()
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, url.hostname or "", port)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        body = _body(request)
        headers = dict(request.headers)
        connection = self.pool.take(key)
        try:
            response, data = self._exchange(connection, request.method, target, body, headers)
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self.pool.give_back(key, connection)
        read = _ReadResponse(response, data)
        if is_rest(request):
            answer = RestHttpClientTransportResponse(request=request, internal_response=read)
            answer.read()
            return answer
        return HttpClientTransportResponse(request, read)

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        body: bytes | None,
        headers: dict[str, str],
    ) -> tuple[http.client.HTTPResponse, bytes]:
        try:
            if connection.sock is None:
                connection.connect()  # within the connect timeout; then each read within the read one
                connection.sock.settimeout(self.pool.read_timeout)  # type: ignore[attr-defined]
            connection.request(method, target, body=body, headers=headers)
        except TimeoutError as error:
            raise ServiceRequestTimeoutError(error, error=error) from error
        except (OSError, http.client.HTTPException) as error:
            raise ServiceRequestError(error, error=error) from error
        try:
            response = connection.getresponse()
            return response, response.read()
        except TimeoutError as error:
            raise ServiceResponseTimeoutError(error, error=error) from error
        except (OSError, http.client.HTTPException) as error:
            raise ServiceResponseError(error, error=error) from error


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle kept connection is no longer usable: readable with nothing asked means closed."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _body(request: Any) -> bytes | None:
    data = request.content if is_rest(request) else request.data
    if data is None:
        return None
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if hasattr(data, "read"):
        read = data.read()
        return read.encode("utf-8") if isinstance(read, str) else read
    raise ValueError(f"unsupported request body for storage: {type(data).__name__}")
