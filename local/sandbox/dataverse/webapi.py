"""The HTTP face of `/env/{name}/api/data/v9.2/…`: bearer token, service protection, faults, request
counting; then one locked unit of work per request whose committed changes go to the webhooks."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from local.sandbox.common import FaultSettings, RequestCounter, drop_connection

from . import errors
from .identity import IdentityService, Principal
from .limits import Throttle
from .store import EnvironmentState, SandboxState
from .system_rows import ensure_systemuser
from .webapi_batch import handle_batch
from .webapi_routes import route
from .webapi_types import JSON_TYPE, ApiRequest, ApiResponse
from .webhooks import WebhookDispatcher

API_PREFIX = "/api/data/v9.2/"
WRITES = ("POST", "PATCH", "PUT", "DELETE")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_QUOTED = re.compile(r"'(?:[^']|'')*'")


def path_template(path: str) -> str:
    """`invoices(3f…)` → `invoices({id})`; `x(dxc_xeroid='abc')` → `x(dxc_xeroid='{key}')`."""
    return _QUOTED.sub("'{key}'", _GUID.sub("{id}", path))


class WebApi:
    def __init__(
        self,
        state: SandboxState,
        identity: IdentityService,
        webhooks: WebhookDispatcher,
        throttle: Throttle,
        faults: FaultSettings,
        counter: RequestCounter,
        base_url: Callable[[], str],
    ) -> None:
        self.state, self.identity, self.webhooks = state, identity, webhooks
        self.throttle, self.faults, self.counter, self.base_url = throttle, faults, counter, base_url

    def handle(self, request: Request, url_name: str, rest: str) -> Response:
        self.counter.add(request.method, API_PREFIX + path_template(rest), url_name)
        if self.state.get(url_name) is None:
            return error_response(errors.not_found_segment(url_name))
        principal = self.identity.authenticate(request.headers.get("Authorization"), self.env_url(url_name))
        if principal is None:
            return Response(status=401, headers={"WWW-Authenticate": self.identity.www_authenticate()})
        return self.handle_as(request, url_name, rest, principal, f"{self.env_url(url_name)}{API_PREFIX}")

    def handle_as(
        self,
        request: Request,
        url_name: str,
        rest: str,
        principal: Principal,
        api_url: str,
        *,
        throttled: bool = True,
    ) -> Response:
        """Serve a request whose token was already checked (by Entra ID's stand-in, or by AD FS's for the
        on-premises organisation, which has no service protection limits: `throttled=False`)."""
        env = self.state.get(url_name)
        if env is None:
            return error_response(errors.not_found_segment(url_name))
        if principal.app_only and not principal.user_id:  # the app has no application user here
            return error_response(errors.not_a_member())
        try:
            remaining = self.throttle.check(principal.user_id) if throttled else 0
            self._faults_before()
            response = self._serve(request, env, principal, rest, api_url, throttled)
        except errors.DataverseError as exc:
            return error_response(exc)
        if request.method in WRITES and self.faults.roll(self.faults.lost_rate):
            return drop_connection(request)
        if throttled:
            response.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] = str(remaining)
        return response

    def env_url(self, url_name: str) -> str:
        return f"{self.base_url()}/env/{url_name}"

    def _faults_before(self) -> None:
        self.faults.delay()
        if self.faults.roll(self.faults.error_rate):
            raise errors.service_unavailable()
        if self.faults.roll(self.faults.throttle_rate):
            raise errors.too_many_requests(6000, 300, max(1, self.faults.throttle_retry_after))
        if self.faults.roll(self.faults.slow_rate):
            time.sleep(self.faults.slow_seconds)

    def _serve(
        self,
        request: Request,
        env: EnvironmentState,
        principal: Principal,
        rest: str,
        api_url: str,
        throttled: bool = True,
    ) -> Response:
        if principal.app_only:
            client = self.identity.directory.clients.get(principal.client_id)
            role = client.roles.get(env.url_name, "admin") if client else "admin"
            if env.user_kinds.get(principal.user_id) != role:  # an administrator changed its roles
                env.user_kinds[principal.user_id] = role
                env.privileges.pop(principal.user_id, None)
        ensure_systemuser(env, principal)
        limits = self.throttle.limits
        env.key_build_seconds, env.key_build_fails = (
            limits.scaled(limits.key_build_seconds),
            limits.key_build_fails,
        )
        ctx = self.webhooks.context_for(principal.user_id, request.headers.get("x-ms-correlation-request-id"))
        if rest == "$batch" and request.method == "POST":
            charge = lambda: self.throttle.check(principal.user_id) if throttled else 0  # noqa: E731
            return handle_batch(request, env, api_url, principal.user_id, ctx, self.webhooks, charge)
        api_request = ApiRequest(
            request.method,
            rest,
            request.args.to_dict(),
            request.headers,
            request.get_data(),
            env,
            api_url,
            principal.user_id,
            ctx,
        )
        with env.lock:
            result = route(api_request)
            self.webhooks.publish(env, ctx)
        return to_response(result)


def to_response(result: ApiResponse) -> Response:
    headers = Headers({"OData-Version": "4.0", "REQ_ID": str(uuid.uuid4())})
    headers.update(result.headers)
    if result.body is None:
        return Response(status=result.status, headers=headers)
    return Response(json.dumps(result.body), status=result.status, headers=headers, content_type=JSON_TYPE)


def error_response(exc: errors.DataverseError) -> Response:
    return to_response(ApiResponse(exc.status, exc.body(), dict(exc.headers)))
