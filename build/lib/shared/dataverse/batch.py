"""`$batch` bodies: several writes in one multipart/mixed request, inside one atomic change set.

A change set is all-or-nothing in Dataverse: when one request fails, nothing is kept and only the failure
is answered. Each request gets a Content-ID, so a later request may refer to an earlier one's new row as
`$1` (e.g. `"invoiceid@odata.bind": "$1"`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BatchRequest:
    method: str  # POST, PATCH, PUT, DELETE (GETs cannot be part of a change set)
    path: str  # relative to the API base ("invoices(…)") or a "$1"-style reference
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchResponse:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or None


def build_batch(api_base: str, requests: list[BatchRequest]) -> tuple[str, bytes]:
    """(Content-Type header, body) of a $batch with every request in one change set."""
    if any(r.method.upper() == "GET" for r in requests):
        raise ValueError("GET requests cannot be part of a change set")
    batch, changeset = f"batch_{uuid.uuid4()}", f"changeset_{uuid.uuid4()}"
    parts = []
    for number, request in enumerate(requests, start=1):
        target = request.path if request.path.startswith("$") else f"{api_base}{request.path}"
        lines = [
            f"--{changeset}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {number}",
            "",
            f"{request.method.upper()} {target} HTTP/1.1",
            *(f"{name}: {value}" for name, value in request.headers.items()),
        ]
        if request.body is not None:
            lines += ["Content-Type: application/json; type=entry", "", json.dumps(request.body)]
        else:
            lines += [""]
        parts.append("\r\n".join(lines) + "\r\n")
    inner = "".join(parts) + f"--{changeset}--\r\n"
    body = (
        f"--{batch}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n{inner}\r\n--{batch}--\r\n"
    )
    return f"multipart/mixed; boundary={batch}", body.encode("utf-8")


def parse_batch(content_type: str, body: str) -> list[BatchResponse]:
    """Every HTTP answer in a $batch response, change sets flattened, in order."""
    boundary = _boundary(content_type)
    if not boundary:
        raise ValueError("the $batch answer is not multipart/mixed")
    answers: list[BatchResponse] = []
    for part in _split(body, boundary):
        headers, content = _head_and_rest(part)
        inner = _boundary(headers.get("content-type", ""))
        if inner:
            answers += [_http_answer(_head_and_rest(sub)[1]) for sub in _split(content, inner)]
        else:
            answers.append(_http_answer(content))
    return answers


def _boundary(content_type: str) -> str:
    if not content_type.lower().startswith("multipart/mixed"):
        return ""
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary":
            return value.strip('"')
    return ""


def _split(text: str, boundary: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    inside = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip() in (f"--{boundary}", f"--{boundary}--"):
            if inside:
                parts.append("\n".join(current))
            current, inside = [], not line.strip().endswith("--")
        elif inside:
            current.append(line)
    return parts


def _head_and_rest(part: str) -> tuple[dict[str, str], str]:
    head, _, rest = part.lstrip("\n").partition("\n\n")
    headers = {}
    for line in head.split("\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _http_answer(content: str) -> BatchResponse:
    status_line, _, rest = content.lstrip("\n").partition("\n")
    words = status_line.split()
    if len(words) < 2 or not words[1].isdigit():
        raise ValueError("a $batch answer part has no HTTP status line")
    headers, body = _head_and_rest(rest) if rest.strip() else ({}, "")
    body = body.strip()
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = body
    return BatchResponse(int(words[1]), headers, parsed)
