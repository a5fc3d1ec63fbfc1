"""The /_sandbox/ control API (JSON, no auth). Routes are documented in the package docstring."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local.sandbox.xero.identity_state import DEFAULT_CLIENT_ID
from local.sandbox.xero.state import SandboxState
from local.sandbox.xero.wire import json_response

RULES = Map(
    [
        Rule("/_sandbox/reset", methods=["POST"], endpoint="reset"),
        Rule("/_sandbox/seed", methods=["POST"], endpoint="seed"),
        Rule("/_sandbox/faults", methods=["GET", "PUT"], endpoint="faults"),
        Rule("/_sandbox/limits", methods=["GET", "PUT"], endpoint="limits"),
        Rule("/_sandbox/limits/reset", methods=["POST"], endpoint="limits_reset"),
        Rule("/_sandbox/clock/advance", methods=["POST"], endpoint="advance"),
        Rule("/_sandbox/orgs", methods=["GET"], endpoint="orgs"),
        Rule("/_sandbox/orgs/<tenant>/<collection>", methods=["GET"], endpoint="records"),
        Rule("/_sandbox/orgs/<tenant>/<collection>/<record_id>", methods=["PATCH"], endpoint="patch"),
        Rule("/_sandbox/orgs/<tenant>/Invoices/<record_id>/pay", methods=["POST"], endpoint="pay"),
        Rule("/_sandbox/tokens", methods=["POST"], endpoint="tokens"),
        Rule("/_sandbox/tokens/expire", methods=["POST"], endpoint="expire"),
        Rule("/_sandbox/apps", methods=["POST"], endpoint="apps"),
        Rule("/_sandbox/webhooks", methods=["GET", "PUT"], endpoint="webhooks"),
        Rule("/_sandbox/webhooks/intent", methods=["POST"], endpoint="intent"),
        Rule("/_sandbox/requests", methods=["GET"], endpoint="requests"),
        Rule("/_sandbox/requests/reset", methods=["POST"], endpoint="requests_reset"),
    ]
)


def handle(state: SandboxState, request: Request, endpoint: str, args: dict[str, str]) -> Response:
    try:
        body = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        return json_response({"error": "body is not JSON"}, 400)
    try:
        return json_response(_dispatch(state, endpoint, request.method, body, args))
    except KeyError as missing:
        return json_response({"error": f"not found: {missing}"}, 404)
    except (ValueError, TypeError) as failure:
        return json_response({"error": str(failure)}, 400)


def _dispatch(
    state: SandboxState, endpoint: str, method: str, body: dict[str, Any], args: dict[str, str]
) -> Any:
    if endpoint == "reset":
        state.reset()
        return {"ok": True}
    if endpoint == "seed":
        return [_org_summary(o) for o in state.seed(body.get("profile", "demo"))]
    if endpoint == "faults":
        if method == "PUT":
            state.faults.update(body)
        return state.faults.as_dict()
    if endpoint == "limits":
        return _limits(state, method, body)
    if endpoint == "limits_reset":
        state.limiter.reset()
        return {"ok": True}
    if endpoint == "advance":
        state.clock.advance(float(body["seconds"]))
        return {"now": state.clock.now()}
    if endpoint == "orgs":
        return [_org_summary(o) for o in state.orgs.values()]
    if endpoint == "records":
        return state.records(args["tenant"], args["collection"])
    if endpoint == "patch":
        return state.patch_record(args["tenant"], args["collection"], args["record_id"], body)
    if endpoint == "pay":
        amount = body.get("amount")
        return state.pay_invoice(
            args["tenant"], args["record_id"], Decimal(str(amount)) if amount is not None else None
        )
    return _identity_and_rest(state, endpoint, method, body)


def _identity_and_rest(state: SandboxState, endpoint: str, method: str, body: dict[str, Any]) -> Any:
    if endpoint == "tokens":
        return state.issue_tokens(
            body.get("scopes"), body.get("tenants"), body.get("client_id", DEFAULT_CLIENT_ID)
        )
    if endpoint == "expire":
        return {"expired": state.identity.expire_access_tokens()}
    if endpoint == "apps":
        app = state.identity.register_app(
            body["client_id"],
            body["client_secret"],
            list(body["redirect_uris"]),
            body.get("name", body["client_id"]),
        )
        return {"client_id": app.client_id, "redirect_uris": app.redirect_uris, "name": app.name}
    if endpoint == "webhooks":
        if method == "PUT":
            if "url" in body or "key" in body:
                state.webhooks.configure(body.get("url"), body.get("key", ""))
            state.webhooks.set_drops(body.get("drop_next"), body.get("drop_rate"))
        return state.webhooks.settings()
    if endpoint == "intent":
        good, bad = state.webhooks.intent_to_receive()
        return {"signed_status": good, "wrongly_signed_status": bad, "passed": good == 200 and bad == 401}
    if endpoint == "requests":
        return state.requests.as_list()
    if endpoint == "requests_reset":
        state.requests.reset()
        return {"ok": True}
    raise KeyError(endpoint)


def _limits(state: SandboxState, method: str, body: dict[str, Any]) -> dict[str, Any]:
    if method == "PUT":
        settings = state.limiter.settings
        for key, value in body.items():
            if key == "time_scale":
                state.clock.set_scale(float(value))
            elif key == "enabled":
                settings.enabled = value is True or str(value).lower() == "true"
            elif hasattr(settings, key):
                setattr(settings, key, int(value))
            else:
                raise ValueError(f"unknown limit setting {key!r}")
    return state.limiter.settings.as_dict() | {"time_scale": state.clock.scale} | state.limiter.counts()


def _org_summary(org: Any) -> dict[str, Any]:
    return {
        "tenantId": org.tenant_id,
        "name": org.name,
        "baseCurrency": org.organisation["BaseCurrency"],
        "invoices": len(org.invoices),
        "contacts": len(org.contacts),
        "items": len(org.items),
    }
