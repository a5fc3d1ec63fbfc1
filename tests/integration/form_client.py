"""A browser without JavaScript for the portal's pages: keeps cookies, reads the CSRF token from each
form it loads and sends it back with the next post. Each client comes from its own address, so the
in-process per-IP sign-in guard never mixes tests."""

from __future__ import annotations

import re
import uuid

import requests

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class FormClient:
    def __init__(self, base: str, get_timeout: float = 10, post_timeout: float = 10) -> None:
        self.base, self.get_timeout, self.post_timeout = base, get_timeout, post_timeout
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.headers["X-Forwarded-For"] = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
        self.token = ""

    def get(self, path: str) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        answer = self.http.get(url, allow_redirects=False, timeout=self.get_timeout)
        found = CSRF.search(answer.text)
        if found:
            self.token = found.group(1)
        return answer

    def post(self, path: str, data: dict[str, str], with_token: bool = True) -> requests.Response:
        body = {"csrf_token": self.token, **data} if with_token else data
        return self.http.post(self.base + path, data=body, allow_redirects=False, timeout=self.post_timeout)
