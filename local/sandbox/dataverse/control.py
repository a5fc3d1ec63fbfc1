"""The sandbox's own JSON API under /_sandbox/ (tests and developers, never the connector): reset and
seed, faults, limits, request counts, webhook deliveries, stored rows, and users' privileges."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from local.sandbox.common import FaultSettings, RequestCounter

from .limits import Limits
from .odata_format import WRITE_ONLY
from .privileges import privileges_of
from .store import Ref, SandboxState
from .webhooks import WebhookDispatcher


class ControlApi:
    def __init__(
        self,
        state: SandboxState,
        faults: FaultSettings,
        limits: Limits,
        counter: RequestCounter,
        webhooks: WebhookDispatcher,
        reset: Callable[[], None],
        seed: Callable[[], None],
        users: Callable[[], list[dict[str, Any]]],
        expire_tokens: Callable[[], None],
    ) -> None:
        self.state, self.faults, self.limits, self.counter, self.webhooks = (
            state,
            faults,
            limits,
            counter,
            webhooks,
        )
        self.reset, self.seed, self.users, self.expire_tokens = reset, seed, users, expire_tokens

    def handle(self, request: Request, rest: str) -> Response:
        parts = [p for p in rest.split("/") if p]
        key = (request.method, "/".join(parts[:1]))
        try:
            return self._route(request, parts, key)
        except (ValueError, TypeError, KeyError) as exc:
            return _json({"error": str(exc)}, 400)

    def _route(self, request: Request, parts: list[str], key: tuple[str, str]) -> Response:
        if key == ("POST", "reset"):
            self.reset()
            return _json({"reset": True})
        if key == ("POST", "seed"):
            self.seed()
            return _json({"seeded": True})
        if key == ("POST", "history"):
            return _json(self._history(_body(request)))
        if key[1] in ("faults", "limits"):
            target = self.faults if key[1] == "faults" else self.limits
            if request.method == "PUT":
                target.update(_body(request))
            return _json(target.as_dict())
        if key == ("GET", "requests"):
            return _json({"requests": self.counter.as_list()})
        if key == ("POST", "requests") and parts[1:] == ["reset"]:
            self.counter.reset()
            return _json({"reset": True})
        if key == ("GET", "deliveries"):
            return _json({"deliveries": self.webhooks.deliveries()})
        if key == ("POST", "deliveries") and parts[1:] == ["wait"]:
            return _json({"idle": self.webhooks.wait_idle(float(request.args.get("timeout", "10")))})
        if key == ("GET", "rows") and len(parts) == 3:
            return _json({"value": [_plain(r, parts[2]) for r in self.state.rows(parts[1], parts[2])]})
        if key == ("POST", "users") and len(parts) == 3 and parts[2] == "privileges":
            return _json(self._privileges(parts[1], _body(request)))
        if key == ("GET", "users"):
            return _json({"users": self.users()})
        if key == ("POST", "tokens") and parts[1:] == ["expire"]:
            self.expire_tokens()
            return _json({"expired": True})
        return _json({"error": f"unknown sandbox route {request.method} /_sandbox/{'/'.join(parts)}"}, 404)

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"environment": url name (contoso), "invoices": n, "until": YYYY-MM-DD, "prefix": "H"}: years
        of older invoices (history.py)."""
        from datetime import date

        from .history import seed_history

        env = self.state.environments[str(body.get("environment", "contoso"))]
        until = date.fromisoformat(str(body["until"])) if body.get("until") else date.today()
        made = seed_history(env, int(body.get("invoices", 300)), until, str(body.get("prefix", "H")))
        return {"invoices": made}

    def _privileges(self, upn: str, body: dict[str, Any]) -> dict[str, Any]:
        """{"remove": [...], "grant": [...], "environment": optional url name} for one user by UPN."""
        user = next((u for u in self.users() if str(u.get("upn", "")).lower() == upn.lower()), None)
        if user is None:
            raise KeyError(f"no user {upn}")
        result = {}
        for name, env in self.state.environments.items():
            if body.get("environment") not in (None, name) or name not in user["systemuserids"]:
                continue  # (an Entra ID user has no account in the on-premises organisation)
            user_id = user["systemuserids"][name]
            with env.lock:
                held = privileges_of(env, user_id)
                held -= set(body.get("remove", []))
                held |= set(body.get("grant", []))
                result[name] = sorted(held)
        return {"upn": upn, "privileges": result}


def _plain(row: dict[str, Any], entity_set: str) -> dict[str, Any]:
    hidden = {column for table, column in WRITE_ONLY if entity_set.startswith(table)}
    return {
        k: ({"id": v.id, "table": v.table} if isinstance(v, Ref) else v)
        for k, v in row.items()
        if k not in hidden
    }


def _body(request: Request) -> dict[str, Any]:
    body = json.loads(request.get_data() or b"{}")
    if not isinstance(body, dict):
        raise ValueError("a JSON object is expected")
    return body


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=str), status=status, content_type="application/json")
