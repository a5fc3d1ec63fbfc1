"""Every Accounting API exchange the sandbox answers, kept for the contract checks of `make test`.

When XERO_SANDBOX_RECORD names a folder, each request and answer under /api.xro/2.0/ is appended to
`xero-<pid>.jsonl` there (the suite sets it; a sandbox in its own process inherits it). The checks then hold
every answer the sandbox gave against Xero's spec with closed schemas and against Xero's own SDK
(tests/xero_contract.py). Off by default: `make run` keeps nothing."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from werkzeug.wrappers import Request, Response

ENVIRONMENT_VARIABLE = "XERO_SANDBOX_RECORD"
_RECORDED_STATUSES = (200, 400)  # what the spec documents for the Accounting endpoints


class TrafficRecorder:
    def __init__(self, folder: str | None = None) -> None:
        folder = folder if folder is not None else os.environ.get(ENVIRONMENT_VARIABLE, "")
        self._folder = Path(folder) if folder else None
        self._lock = threading.Lock()

    def record(self, request: Request, response: Response) -> None:
        if self._folder is None or response.status_code not in _RECORDED_STATUSES:
            return
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.query_string.decode("latin-1"),
            "request": request.get_data(as_text=True) if request.method in ("PUT", "POST") else "",
            "status": response.status_code,
            "response": response.get_data(as_text=True),
        }
        line = json.dumps(entry) + "\n"
        with self._lock, open(self._folder / f"xero-{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
            out.write(line)
