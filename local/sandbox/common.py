"""What both sandboxes share: a threaded WSGI server that starts in-process, request counting by
path template, and faults on demand (error rates, throttling, slow answers, committed-but-lost answers)."""

from __future__ import annotations

import random
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from local.ports import widen_backlog

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ServerThread:
    """A real threaded HTTP(S) server on 127.0.0.1, run in a background thread (tests, make run)."""

    def __init__(self, app: WSGIApp, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, app, threaded=True, ssl_context=ssl_context
        )
        widen_backlog(self._server.socket)
        self.port = int(self._server.server_port)
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"sandbox-{self.port}", daemon=True
        )

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


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
    """Close the client's socket without an answer ("committed but the answer is lost").

    The returned response is never delivered; the socket is already gone."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
    return Response(status=500)
