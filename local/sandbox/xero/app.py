"""The WSGI app: routing, then for Accounting calls the gateway Xero runs before any resource code -
bearer token, tenant connection, scope, rate limits - then faults on demand, idempotency and the resource.
An unexpected exception becomes a logged 500 with a JSON body, never a traceback page."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local.sandbox.common import drop_connection
from local.sandbox.xero import accounting_routes, control_routes, identity_routes, ui
from local.sandbox.xero.identity_state import Grant
from local.sandbox.xero.recorder import TrafficRecorder
from local.sandbox.xero.scopes import scope_allows
from local.sandbox.xero.state import SandboxState
from local.sandbox.xero.wire import json_response, problem

log = logging.getLogger(__name__)
API = "/api.xro/2.0"
READ_ONLY = ("TaxRates", "Accounts", "BrandingThemes", "TrackingCategories", "Currencies", "Organisation")
WRITABLE = ("Invoices", "Contacts", "Items")
IDEMPOTENCY_KEY_MAX = 128

ROUTES = Map(
    [
        Rule("/identity/connect/authorize", methods=["GET", "POST"], endpoint="authorize"),
        Rule("/connect/token", methods=["POST"], endpoint="token"),
        Rule("/connect/revocation", methods=["POST"], endpoint="revocation"),
        Rule("/connections", methods=["GET"], endpoint="connections"),
        Rule("/Connections", methods=["GET"], endpoint="connections"),
        Rule("/connections/<connection_id>", methods=["DELETE"], endpoint="connections"),
        Rule("/Connections/<connection_id>", methods=["DELETE"], endpoint="connections"),
        *[Rule(f"{API}/{r}", methods=["GET", "PUT", "POST"], endpoint=f"api:{r}") for r in WRITABLE],
        *[Rule(f"{API}/{r}/<record_id>", methods=["GET", "POST"], endpoint=f"api:{r}") for r in WRITABLE],
        *[Rule(f"{API}/{r}", methods=["GET"], endpoint=f"api:{r}") for r in READ_ONLY],
        *[Rule(f"{API}/{r}/<record_id>", methods=["GET"], endpoint=f"api:{r}") for r in READ_ONLY],
    ],
    strict_slashes=False,
)


class XeroApp:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.recorder = TrafficRecorder()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._route(request)
        except Exception:
            log.exception("sandbox Xero failed on %s %s", request.method, request.path)
            response = json_response(
                {
                    "Title": "Internal Server Error",
                    "Status": 500,
                    "Detail": "The sandbox hit an unexpected error; see its log.",
                },
                500,
            )
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        page = ui.handle(self.state, request)
        if page is not None:
            return page
        if request.path.startswith("/_sandbox/"):
            adapter = control_routes.RULES.bind_to_environ(request.environ)
            try:
                endpoint, args = adapter.match()
            except HTTPException as failure:
                return json_response({"error": failure.name}, failure.code or 404)
            return control_routes.handle(self.state, request, str(endpoint), dict(args))
        adapter = ROUTES.bind_to_environ(request.environ)
        try:
            endpoint, matched = adapter.match()
        except MethodNotAllowed as failure:
            return problem(
                405,
                "Method Not Allowed",
                "The requested method is not supported on this resource",
                {"Allow": ", ".join(failure.valid_methods or [])},
            )
        except NotFound:
            return problem(404, "NotFound", "The resource you're looking for cannot be found")
        endpoint, args = str(endpoint), dict(matched)
        template = request.path if not args else _template(request.path, args)
        if not endpoint.startswith("api:"):
            self.state.requests.add(request.method, template)
            return self._identity(request, endpoint, args)
        response = self._accounting(request, endpoint[4:], args.get("record_id"), template)
        self.recorder.record(request, response)
        return response

    def _identity(self, request: Request, endpoint: str, args: dict[str, Any]) -> Response:
        if endpoint == "authorize":
            return identity_routes.authorize(self.state, request)
        if endpoint == "token":
            return identity_routes.token(self.state, request)
        if endpoint == "revocation":
            return identity_routes.revocation(self.state, request)
        return identity_routes.connections(self.state, request, args.get("connection_id"))

    def _accounting(self, request: Request, resource: str, record_id: str | None, template: str) -> Response:
        state = self.state
        grant, failure = identity_routes.bearer_grant(state, request)
        if grant is None:
            state.requests.add(request.method, template)
            return failure
        tenant_id = request.headers.get("xero-tenant-id", "").strip().lower()
        state.requests.add(request.method, template, tenant_id)
        if tenant_id not in state.orgs or not state.identity.connected(grant, tenant_id):
            return problem(403, "Forbidden", "AuthenticationUnsuccessful")
        if not scope_allows(grant.scopes, resource, request.method):
            return problem(401, "Unauthorized", "AuthorizationUnsuccessful")
        admission = state.limiter.enter(grant.client_id, tenant_id)
        if not admission.allowed:
            return problem(
                429, "Too Many Requests", f"Rate limit exceeded: {admission.problem}", admission.headers
            )
        try:
            response = self._faulty(request, grant, tenant_id, resource, record_id)
        finally:
            state.limiter.leave(grant.client_id, tenant_id)
        response.headers.update(admission.headers)
        return response

    def _faulty(
        self, request: Request, grant: Grant, tenant_id: str, resource: str, record_id: str | None
    ) -> Response:
        faults = self.state.faults
        faults.delay()
        if faults.roll(faults.error_rate):
            status = 503 if faults.roll(0.5) else 500
            return problem(
                status,
                "Service Unavailable" if status == 503 else "Internal Server Error",
                "The sandbox injected a failure",
            )
        if faults.roll(faults.throttle_rate):
            self.state.limiter.count_refusal(tenant_id, "injected")
            retry = str(max(1, faults.throttle_retry_after))
            return problem(
                429,
                "Too Many Requests",
                "Rate limit exceeded: minute",
                {"Retry-After": retry, "X-Rate-Limit-Problem": "minute"},
            )
        if faults.roll(faults.slow_rate):
            time.sleep(faults.slow_seconds)  # the client times out; the call still happens afterwards
        if request.method == "GET":
            return accounting_routes.read(
                self.state, self.state.orgs[tenant_id], request, resource, record_id
            )
        response = self._write(request, tenant_id, resource, record_id)
        if faults.roll(faults.lost_rate):
            return drop_connection(request)
        return response

    def _write(self, request: Request, tenant_id: str, resource: str, record_id: str | None) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
            return json_response(
                {
                    "ErrorNumber": 10,
                    "Type": "ValidationException",
                    "Message": f"Idempotency-Key must be {IDEMPOTENCY_KEY_MAX} characters or fewer",
                    "Elements": [],
                },
                400,
            )
        state = self.state
        replay_key = (tenant_id, request.path, request.method, key or "")
        with state.lock:  # so that two racing requests with one key do the work once
            if key:
                replayed = state.replay(replay_key)
                if replayed is not None:
                    return Response(replayed.body, status=replayed.status, content_type=replayed.content_type)
            response = accounting_routes.write(state, state.orgs[tenant_id], request, resource, record_id)
            if key and response.status_code < 500:
                state.remember(
                    replay_key, response.status_code, response.get_data(), response.content_type or ""
                )
            return response


def _template(path: str, args: dict[str, Any]) -> str:
    for value in args.values():
        path = path.replace(f"/{value}", "/{id}", 1)
    return path
