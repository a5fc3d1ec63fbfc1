"""One Web API operation as the handlers see it: the same shape for a plain HTTP request and for one
part of a $batch, so both go through exactly the same code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .records import WriteContext
from .store import EnvironmentState

JSON_TYPE = "application/json; odata.metadata=minimal"


@dataclass
class ApiRequest:
    method: str
    path: str  # after /api/data/v9.2/, decoded, without a leading slash
    args: Mapping[str, str]
    headers: Any  # werkzeug Headers (case-insensitive get)
    body: bytes
    env: EnvironmentState
    api_url: str  # https://host/env/<name>/api/data/v9.2/
    user_id: str
    ctx: WriteContext
    content_ids: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return str(self.headers.get(name) or "")

    @property
    def prefer(self) -> str:
        return self.header("Prefer")

    def wants_representation(self) -> bool:
        return "return=representation" in self.prefer


@dataclass
class ApiResponse:
    status: int
    body: Any = None  # dict → JSON; None → empty
    headers: dict[str, str] = field(default_factory=dict)
