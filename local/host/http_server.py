"""HTTP triggers: a real threaded HTTP server that turns requests into func.HttpRequest, enforces
authLevel keys like the Functions host, and writes the function's func.HttpResponse back."""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import Any

import azure.functions as func
from werkzeug.serving import ThreadedWSGIServer
from werkzeug.wrappers import Request, Response

from local.host.http_routes import Route
from local.host.invoker import Invoker
from local.ports import widen_backlog

log = logging.getLogger("local.host")
FUNCTION_KEY_SETTING = "LOCAL_FUNCTION_KEY"
MASTER_KEY_SETTING = "LOCAL_MASTER_KEY"
MAX_BODY_BYTES = 100 * 1024 * 1024  # the Functions host's request size limit


def _key_accepted(presented: str, auth_level: str) -> bool:
    names = [MASTER_KEY_SETTING] if auth_level == "admin" else [FUNCTION_KEY_SETTING, MASTER_KEY_SETTING]
    accepted = False
    for name in names:
        key = os.environ.get(name, "")
        # compare every configured key, in constant time, so timing tells nothing
        if key and hmac.compare_digest(presented.encode(), key.encode()):
            accepted = True
    return accepted


class HttpTriggerApp:
    def __init__(self, routes: list[Route], invoker: Invoker) -> None:
        self.routes = routes
        self.invoker = invoker

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        return self.handle(request)(environ, start_response)

    def handle(self, request: Request) -> Response:
        for route in self.routes:
            params = route.match(request.path)
            if params is None or (route.methods and request.method.upper() not in route.methods):
                continue
            return self._invoke(route, params, request)
        # The Functions host answers 404 both for unknown paths and for undeclared methods.
        return Response(status=404)

    def _invoke(self, route: Route, params: dict[str, str], request: Request) -> Response:
        if route.auth_level != "anonymous":
            presented = request.headers.get("x-functions-key") or request.args.get("code") or ""
            if not _key_accepted(presented, route.auth_level):
                return Response(status=401)
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return Response(status=413)
        http_request = func.HttpRequest(
            method=request.method,
            url=request.url,
            headers=dict(request.headers.items()),
            params={k: v for k, v in request.args.items()},
            route_params=params,
            body=request.get_data(cache=False),
        )
        try:
            result = self.invoker.invoke(route.spec, http_request, f"{request.method} {request.path}")
        except Exception:
            log.exception("function %s failed", route.spec.name)
            return Response(status=500)
        return _to_response(result)


def _to_response(result: Any) -> Response:
    if isinstance(result, func.HttpResponse):
        response = Response(result.get_body(), status=result.status_code)
        response.headers.clear()
        for name, value in result.headers.items():
            response.headers.add(name, value)
        if "content-type" not in {name.lower() for name, _ in result.headers.items()}:
            response.headers["Content-Type"] = f"{result.mimetype}; charset={result.charset}"
        return response
    if result is None:
        return Response(status=204)
    return Response(str(result), status=200, mimetype="text/plain")


class HttpServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, knowing which accepted connections are still open, so a graceful stop
    can wait until each has had its answer written, not only until each function has returned: the
    handler threads are daemons, and an exit right after the last invocation returned used to cut a
    response short (IncompleteRead under load). Werkzeug answers one request per connection ("Connection:
    close" on every response), so an open connection is a request not yet fully answered."""

    def __init__(self, host: str, port: int, app: HttpTriggerApp) -> None:
        super().__init__(host, port, app)
        self._open: set[Any] = set()
        self._all_closed = threading.Condition()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._all_closed:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        # socketserver calls this once per accepted connection, after its answer (or its failure).
        try:
            super().shutdown_request(request)
        finally:
            with self._all_closed:
                self._open.discard(request)
                self._all_closed.notify_all()

    def open_connections(self) -> int:
        with self._all_closed:
            return len(self._open)

    def wait_answered(self, deadline: float) -> bool:
        """Wait (until time.monotonic() reaches deadline) for every accepted connection to be answered."""
        with self._all_closed:
            return self._all_closed.wait_for(
                lambda: not self._open, timeout=max(0.0, deadline - time.monotonic())
            )


def make_http_server(app: HttpTriggerApp, port: int, host: str = "127.0.0.1") -> HttpServer:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = HttpServer(host, port, app)
    widen_backlog(server.socket)
    return server
