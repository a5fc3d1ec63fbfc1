"""A browser without JavaScript on the portal (cookies, CSRF tokens), for the account and billing tests."""

from __future__ import annotations

import requests

from shared.store.models import utc_now
from shared.web import sessions
from tests.browser.portal_stack import SESSION_SECRET, Portal
from tests.integration.form_client import FormClient

GOOD_PASSWORD = "correct horse 42 battery"


class Visitor(FormClient):
    """A browser without JavaScript on the portal (cookies, CSRF tokens: FormClient)."""

    def __init__(self, portal: Portal) -> None:
        super().__init__(portal.url)
        self.portal = portal

    def cookie(self) -> str:
        return self.http.cookies.get(sessions.COOKIE_NAME) or ""

    def session(self) -> sessions.Session | None:
        return sessions.decode(self.cookie(), SESSION_SECRET, utc_now())

    def register(self, email: str, company: str = "Kiwi Ltd") -> requests.Response:
        """The page after registering: the form's answer redirects there (redirect after POST)."""
        self.get("/signup")
        sent = self.post("/signup", {"name": "Ana", "company": company, "email": email, "terms": "accepted"})
        if sent.status_code != 303:
            return sent
        assert sent.headers["Location"] == "/signup/sent"
        return self.get(sent.headers["Location"])

    def register_and_set_password(self, email: str, password: str = GOOD_PASSWORD) -> requests.Response:
        assert self.register(email).status_code == 200
        link = self.portal.link_in_last_email_to(email)
        assert self.get(link).status_code == 200
        return self.post("/verify", {"token": link_token(link), "password": password, "confirm": password})


def link_token(link: str) -> str:
    return link.split("token=", 1)[1]
