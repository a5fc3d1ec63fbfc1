"""Which registered steps a change triggers (message, table, enabled, filtering attributes, a webhook
endpoint) and how the endpoint wants to be called (WebhookKey, HttpHeader, HttpQueryString)."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from .records import Change
from .store import EnvironmentState, Ref, Row

WEBHOOK_CONTRACT, WEBHOOK_KEY, HTTP_HEADER, HTTP_QUERY = 8, 4, 5, 6
_SETTING = re.compile(r"<setting\s+name=\"([^\"]*)\"\s+value=\"([^\"]*)\"\s*/>")


def matching_steps(env: EnvironmentState, change: Change) -> list[tuple[Row, Row]]:
    """(step, endpoint) pairs registered for this message on this table, by rank."""
    found = []
    for step in env.all_rows("sdkmessageprocessingstep"):
        if step.get("statecode") != 0 or not _is_for(env, step, change):
            continue
        handler = step.get("eventhandler")
        endpoint = env.get("serviceendpoint", handler.id) if isinstance(handler, Ref) else None
        if endpoint is None or endpoint.get("contract") != WEBHOOK_CONTRACT:
            continue
        if change.message == "Update" and not _passes_filter(step, change):
            continue
        found.append((step, endpoint))
    return sorted(found, key=lambda pair: pair[0].get("rank") or 0)


def _is_for(env: EnvironmentState, step: Row, change: Change) -> bool:
    message = (
        env.get("sdkmessage", step["sdkmessageid"].id) if isinstance(step.get("sdkmessageid"), Ref) else None
    )
    filter_ref = step.get("sdkmessagefilterid")
    filter_row = env.get("sdkmessagefilter", filter_ref.id) if isinstance(filter_ref, Ref) else None
    if message is None or message.get("name") != change.message:
        return False
    return filter_row is None or filter_row.get("primaryobjecttypecode") == change.table


def _passes_filter(step: Row, change: Change) -> bool:
    listed = {c.strip().lower() for c in (step.get("filteringattributes") or "").split(",") if c.strip()}
    return not listed or bool(listed & set(change.target))


def auth_settings(authvalue: str | None) -> list[tuple[str, str]]:
    """`<settings><setting name="x-api-key" value="…"/></settings>` → [("x-api-key", "…")]."""
    return [(html.unescape(n), html.unescape(v)) for n, v in _SETTING.findall(authvalue or "")]


def authenticated(endpoint: Row) -> tuple[str, dict[str, str]]:
    url, authtype, authvalue = endpoint.get("url") or "", endpoint.get("authtype"), endpoint.get("authvalue")
    if authtype == WEBHOOK_KEY and authvalue:
        return _with_query(url, [("code", authvalue)]), {}
    if authtype == HTTP_HEADER:
        return url, dict(auth_settings(authvalue))
    if authtype == HTTP_QUERY:
        return _with_query(url, auth_settings(authvalue)), {}
    return url, {}


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(pairs)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
