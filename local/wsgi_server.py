"""The one HTTP(S) server of every local process (the Functions host, the sandboxes, the Stripe stand-in):
cheroot, a production WSGI server, so local figures measure the connector and not the stand-ins.

Why not werkzeug's development server: it answers one request per connection ("Connection: close"), so
every call paid a new TCP and TLS handshake, which real Dataverse, Xero and the Functions host do not
make a client pay (they keep connections alive). cheroot keeps HTTP/1.1 connections open between
requests, speaks TLS, and hands idle connections to one selector instead of holding a thread for each.

A graceful stop: no new connection is accepted, idle kept-alive connections are closed, and every request
already being handled is answered in full (its connection closed after the answer) before `stop` returns
— within the grace given, after which what is left is cut."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Self

from cheroot import server, wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from cheroot.workers import threadpool

from local.ports import LISTEN_BACKLOG

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SOCKET_ENVIRON_KEY = "local.socket"  # the request's client socket, for a sandbox that drops it on purpose
# An idle kept-alive connection is closed after this long. Azure's front end keeps one for 4 minutes;
# shorter here so stray test clients do not pile up, longer than any pause between a worker's calls.
KEEP_ALIVE_SECONDS = 60
log = logging.getLogger("local.wsgi")


class _Gateway(wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, plus the client's socket in the environ (see SOCKET_ENVIRON_KEY)."""

    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]  # cheroot's stub says None
        environ: dict[str, Any] = super().get_environ()
        environ[SOCKET_ENVIRON_KEY] = self.req.conn.socket
        return environ


class _Connection(server.HTTPConnection):
    def close(self) -> None:
        # A client that went away leaves an unwritten answer in cheroot's write buffer, which the buffer
        # would try to flush when collected — onto a descriptor already closed, or reused meanwhile.
        with contextlib.suppress(OSError):
            self.wfile.close()
        super().close()


class _ContextSSLAdapter(BuiltinSSLAdapter):
    """cheroot's built-in TLS adapter with an ssl.SSLContext made by the caller (its own only takes files)."""

    def __init__(self, context: ssl.SSLContext) -> None:  # noqa: D107 - deliberately not calling super
        self.certificate = self.private_key = self.certificate_chain = self.ciphers = None
        self.private_key_password = None
        self.context = context
        self._server_env: dict[str, Any] = {}


class _DaemonThreadPool(threadpool.ThreadPool):
    """cheroot's worker pool with daemon threads (as werkzeug's threaded server had): a test that forgets
    to stop a server must not keep its process from exiting."""

    def _spawn_worker(self) -> threadpool.WorkerThread:
        worker = threadpool.WorkerThread(self.server)
        worker.name = f"wsgi {worker.name}"
        worker.daemon = True
        worker.start()
        return worker


class _Server(wsgi.Server):
    @classmethod
    def prepare_socket(cls, *args: Any, **kwargs: Any) -> Any:
        # SO_REUSEADDR on every listening socket (as werkzeug's server had), not only on fixed ports as
        # cheroot does: a sandbox restarted on the port it was given first must not wait for that first
        # socket's closed connections to leave TIME_WAIT.
        sock = super().prepare_socket(*args, **kwargs)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return sock

    def error_log(self, msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
        # cheroot writes to stderr by default; a client that went away is routine, not an error
        quiet = not traceback and level < logging.ERROR
        log.log(logging.DEBUG if quiet else level, "%s", msg, exc_info=traceback)


class WsgiServer:
    """`WsgiServer(app, port=0, ssl_context=None).start()`; then `.url`, `.port`, `.stop(grace)`.

    Binds on construction (so `.port` is known before serving); `threads` is how many requests are
    handled at once (idle kept-alive connections hold none)."""

    def __init__(
        self,
        app: WSGIApp,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        *,
        host: str = "127.0.0.1",
        threads: int = 64,
        name: str = "http",
    ) -> None:
        self._server = _Server(
            (host, port),
            app,
            numthreads=threads,
            request_queue_size=LISTEN_BACKLOG,
            timeout=KEEP_ALIVE_SECONDS,
        )
        self._server.requests = _DaemonThreadPool(self._server, min=threads, max=threads)
        self._server.gateway = _Gateway
        self._server.ConnectionClass = _Connection
        self._server.keep_alive_conn_limit = None  # type: ignore[assignment]  # every client keeps its connections (none is refused)
        if ssl_context is not None:
            self._server.ssl_adapter = _ContextSSLAdapter(ssl_context)
        self._server.prepare()
        self.port = int(self._server.bind_addr[1])
        self.url = f"{'https' if ssl_context else 'http'}://{host}:{self.port}"
        self._name = name
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        name = f"{self._name}-{self.port}"
        self._thread = threading.Thread(target=self._server.serve, name=name, daemon=True)
        self._thread.start()
        return self

    def requests_in_flight(self) -> int:
        """Requests being handled or waiting for a thread (their answers not yet fully written)."""
        pool = self._server.requests
        return max(0, len(pool._threads) - pool.idle) + pool.qsize

    def stop(self, grace_seconds: float = 10.0) -> bool:
        """Stop accepting, close idle connections, let every request being handled finish its answer
        (up to `grace_seconds`, then cut it). False when something had to be cut."""
        self._server.shutdown_timeout = grace_seconds
        started = time.monotonic()
        self._server.stop()  # returns once every worker has finished (or been cut at the grace's end)
        if self._thread is not None:
            self._thread.join(timeout=5)
        return time.monotonic() - started < grace_seconds

    def close_unstarted(self) -> None:
        """Release the port of a server that is not going to serve after all."""
        self._server.stop()
