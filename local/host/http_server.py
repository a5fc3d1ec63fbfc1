"""HTTP triggers: a real HTTP server (kept-alive connections) that turns requests into func.HttpRequest,
enforces authLevel keys like the Functions host, and writes the function's func.HttpResponse back."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterable
from typing import Any

import azure.functions as func
from werkzeug.wrappers import Request, Response

from local.host.http_routes import Route
from local.host.invoker import Invoker
from local.wsgi_server import WsgiServer

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


# Requests handled at once: above what arrives together in a burst of webhooks (Dynamics sends each
# event on its own call), so none waits for a thread while the functions' own I/O is out.
HTTP_THREADS = 64


def make_http_server(app: HttpTriggerApp, port: int, host: str = "127.0.0.1") -> WsgiServer:
    """The host's HTTP server: kept-alive connections as the Functions host keeps them (its front end
    does), and a stop that lets every request being handled be answered in full (local/wsgi_server.py)."""
    return WsgiServer(app, port, host=host, threads=HTTP_THREADS, name="http")
