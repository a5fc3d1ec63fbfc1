"""`POST $batch`: multipart/mixed of requests and change sets (up to 1,000 operations). A change set is
atomic: when one of its requests fails, everything it did is rolled back and only the failure is
answered. Processing stops at the first failure unless `Prefer: odata.continue-on-error`."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from . import errors
from .records import WriteContext
from .store import EnvironmentState
from .webapi_routes import route
from .webapi_types import JSON_TYPE, ApiRequest, ApiResponse
from .webhooks import WebhookDispatcher

MAX_OPERATIONS = 1000
API_MARK = re.compile(r"/api/data/v9\.[0-9]/")  # 9.2 online, 9.0/9.1 on-premises


@dataclass
class Operation:
    method: str
    target: str
    headers: Headers
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    operations: list[Operation] = field(default_factory=list)


def handle_batch(
    request: Request,
    env: EnvironmentState,
    api_url: str,
    user_id: str,
    ctx: WriteContext,
    webhooks: WebhookDispatcher,
    charge: Callable[[], object] = lambda: None,
) -> Response:
    boundary = request.mimetype_params.get("boundary")
    if request.mimetype != "multipart/mixed" or not boundary:
        raise errors.bad_payload(
            "The content type of a $batch request must be multipart/mixed with a boundary."
        )
    items = _parse_parts(request.get_data(as_text=True), boundary)
    if sum(len(i.operations) if isinstance(i, ChangeSet) else 1 for i in items) > MAX_OPERATIONS:
        raise errors.DataverseError(
            400, "0x8005f103", f"The number of requests in a batch exceeds the limit of {MAX_OPERATIONS}."
        )
    runner = _Runner(env, api_url, user_id, ctx, webhooks, request.headers.get("Prefer", ""), charge)
    out_boundary = f"batchresponse_{uuid.uuid4()}"
    chunks = []
    for item in items:
        chunk, failed = runner.run_changeset(item) if isinstance(item, ChangeSet) else runner.run_single(item)
        chunks.append(chunk)
        if failed and "odata.continue-on-error" not in runner.prefer:
            break
    body = "".join(f"--{out_boundary}\r\n{c}" for c in chunks) + f"--{out_boundary}--\r\n"
    return Response(
        body,
        status=200,
        content_type=f"multipart/mixed; boundary={out_boundary}",
        headers={"OData-Version": "4.0"},
    )


@dataclass
class _Runner:
    env: EnvironmentState
    api_url: str
    user_id: str
    ctx: WriteContext
    webhooks: WebhookDispatcher
    prefer: str
    charge: Callable[[], object]
    content_ids: dict[str, str] = field(default_factory=dict)

    def run_single(self, op: Operation) -> tuple[str, bool]:
        with self.env.lock:
            result = self._execute(op)
            self.webhooks.publish(self.env, self.ctx)
        return _http_part(result, None), result.status >= 400

    def run_changeset(self, changeset: ChangeSet) -> tuple[str, bool]:
        with self.env.lock:
            snapshot = self.env.snapshot()
            results = []
            try:
                for op in changeset.operations:
                    result = self._execute(op, in_changeset=True)
                    if result.status >= 400:
                        self.env.restore(snapshot)
                        self.ctx.changes.clear()
                        return _http_part(result, op.content_id), True
                    results.append((op, result))
            except Exception:
                self.env.restore(snapshot)
                self.ctx.changes.clear()
                raise
            self.webhooks.publish(self.env, self.ctx)
        boundary = f"changesetresponse_{uuid.uuid4()}"
        inner = "".join(f"--{boundary}\r\n{_http_part(r, op.content_id)}" for op, r in results)
        return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{inner}--{boundary}--\r\n", False

    def _execute(self, op: Operation, in_changeset: bool = False) -> ApiResponse:
        try:
            self.charge()
            if in_changeset and op.method == "GET":
                raise errors.bad_payload("GET requests are not allowed inside a change set.")
            path, args = self._resolve(op.target)
            api = ApiRequest(
                op.method,
                path,
                args,
                op.headers,
                op.body,
                self.env,
                self.api_url,
                self.user_id,
                self.ctx,
                self.content_ids,
            )
            result = route(api)
        except errors.DataverseError as exc:
            return ApiResponse(exc.status, exc.body(), dict(exc.headers))
        if op.content_id and "OData-EntityId" in result.headers:
            self.content_ids[op.content_id] = result.headers["OData-EntityId"]
        return result

    def _resolve(self, target: str) -> tuple[str, dict[str, str]]:
        if target.startswith("$"):
            reference, _, rest = target[1:].partition("/")
            if reference in self.content_ids:
                target = self.content_ids[reference] + (f"/{rest}" if rest else "")
        parts = urlsplit(target)
        path = parts.path
        marked = API_MARK.split(path, 1)
        path = marked[1] if len(marked) == 2 else path.lstrip("/")
        return path, dict(parse_qsl(parts.query, keep_blank_values=True))


def _parse_parts(text: str, boundary: str) -> list[Operation | ChangeSet]:
    items: list[Operation | ChangeSet] = []
    for part in _split(text, boundary):
        headers, content = _headers_and_content(part)
        content_type = headers.get("Content-Type", "")
        if content_type.startswith("multipart/mixed"):
            inner = content_type.split("boundary=", 1)[1].strip().strip('"')
            changeset = ChangeSet()
            for sub in _split(content, inner):
                sub_headers, sub_content = _headers_and_content(sub)
                changeset.operations.append(_operation(sub_content, sub_headers.get("Content-ID")))
            items.append(changeset)
        else:
            items.append(_operation(content, headers.get("Content-ID")))
    return items


def _split(text: str, boundary: str) -> list[str]:
    text = text.replace("\r\n", "\n")
    parts: list[str] = []
    current: list[str] = []
    inside = False
    for line in text.split("\n"):
        if line.strip() in (f"--{boundary}", f"--{boundary}--"):
            if inside:
                parts.append("\n".join(current))
            current, inside = [], not line.strip().endswith("--")
            continue
        if inside:
            current.append(line)
    return parts


def _headers_and_content(part: str) -> tuple[Headers, str]:
    head, _, content = part.lstrip("\n").partition("\n\n")
    headers = Headers()
    for line in head.split("\n"):
        if ":" in line:
            name, value = line.split(":", 1)
            headers.add(name.strip(), value.strip())
    return headers, content


def _operation(content: str, content_id: str | None) -> Operation:
    request_line, _, rest = content.lstrip("\n").partition("\n")
    words = request_line.split()
    if len(words) < 2:
        raise errors.bad_payload(f"The request line '{request_line}' of a $batch part is not valid.")
    headers, body = _headers_and_content(rest) if rest.strip() else (Headers(), "")
    return Operation(words[0].upper(), words[1], headers, body.strip().encode("utf-8"), content_id)


def _http_part(result: ApiResponse, content_id: str | None) -> str:
    reason = HTTPStatus(result.status).phrase
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"HTTP/1.1 {result.status} {reason}", "OData-Version: 4.0"]
    lines += [f"{k}: {v}" for k, v in result.headers.items()]
    if result.body is not None:
        lines += [f"Content-Type: {JSON_TYPE}", "", json.dumps(result.body)]
    else:
        lines += [""]
    return "\r\n".join(lines) + "\r\n\r\n"
