"""What the sandboxes share: a keep-alive HTTP(S) server started in-process (local/wsgi_server.py), the
start/stop of a stand-in served by it, request counting by path template, and faults on demand (error
rates, throttling, slow answers, committed-but-lost answers)."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Self

from werkzeug.wrappers import Request, Response

from local.wsgi_server import SOCKET_ENVIRON_KEY, WSGIApp, WsgiServer

__all__ = ["WSGIApp", "ServerThread", "ServedSandbox", "RequestCounter", "FaultSettings", "drop_connection"]


class ServerThread(WsgiServer):
    """A real HTTP(S) server on 127.0.0.1 with kept-alive connections, serving from background threads."""


class ServedSandbox:
    """Start, stop and URL of a stand-in served by one ServerThread: `.start(port=0)`, `.url`, `.stop()`,
    and `with` (started on entry unless already, stopped on exit). A stand-in provides `wsgi_app()` and
    may react to `_started(url)` / `_stopped()`."""

    _server: ServerThread | None = None

    def wsgi_app(self) -> WSGIApp:
        raise NotImplementedError

    def _started(self, url: str) -> None:
        """Called once the server answers at `url`."""

    def _stopped(self) -> None:
        """Called after the server has stopped (every request answered)."""

    def start(self, port: int = 0) -> Self:
        self._server = ServerThread(self.wsgi_app(), port=port).start()
        self._started(self._server.url)
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._stopped()

    def __enter__(self) -> Self:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RequestCounter:
    """Counts requests by (method, path template, organisation) for GET /_sandbox/requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str, str]] = Counter()

    def add(self, method: str, template: str, organisation: str = "") -> None:
        with self._lock:
            self._counts[(method, template, organisation)] += 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def as_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"method": m, "path": p, "organisation": o, "count": c}
                for (m, p, o), c in sorted(self._counts.items())
            ]


@dataclass
class FaultSettings:
    """Rates are fractions of eligible requests (0.0-1.0). `lost_rate` applies to writes only: the write
    is stored, then the connection is dropped before any answer. `latency_ms` is added to every call.
    `throttle_rate` answers 429 with `Retry-After: throttle_retry_after` (whole real seconds) without doing
    anything, as a service under load does whatever its own limits say."""

    error_rate: float = 0.0  # answered 500 or 503 without doing anything
    throttle_rate: float = 0.0
    throttle_retry_after: int = 1
    slow_rate: float = 0.0  # answered only after `slow_seconds`
    slow_seconds: float = 30.0
    lost_rate: float = 0.0
    latency_ms: float = 0.0
    seed: int | None = None
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key.startswith("_") or not hasattr(self, key):
                raise ValueError(f"unknown fault setting {key!r}")
            setattr(self, key, type(getattr(self, key) or 0.0)(value) if value is not None else None)
        if "seed" in values:
            self._random.seed(values["seed"])

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._random.random() < rate

    def delay(self) -> None:
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000.0)


def drop_connection(request: Request) -> Response:
    """End the client's connection without an answer ("committed but the answer is lost").

    The socket is shut down, not closed: the server still owns it and closes it, so its descriptor is not
    reused by a newer connection while the server still refers to it. The returned response is never
    delivered (writing it fails on the shut socket, and the server then closes the connection)."""
    sock = request.environ.get(SOCKET_ENVIRON_KEY)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    return Response(status=500)
