"""One portal request: its session, the signed-in account, the posted form, and the responses it builds.

`serve` is what every page trigger calls: it builds the Page, refuses a POST whose CSRF token is missing
or wrong (403), runs the handler, and turns any unexpected error into a friendly 500 page, logged without
the query string (e-mail links carry tokens there) or the form (passwords)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import azure.functions as func

from shared.accounts.passwords import HASH_SLOTS, HashingBusy
from shared.config import Settings
from shared.store.accounts import AccountStore
from shared.store.models import Account, utc_now
from shared.web import responses, sessions
from shared.web.csrf import FIELD as CSRF_FIELD
from shared.web.csrf import csrf_token, csrf_valid
from shared.web.forms import MAX_FORM_BYTES, client_ip, parse_form
from shared.web.responses import SECURITY_HEADERS
from shared.web.templating import render, stylesheet

if TYPE_CHECKING:
    from shared.accounts.services import AccountServices
    from shared.web.parts import PortalParts

log = logging.getLogger("portal")
Handler = Callable[["Page"], func.HttpResponse]
_SEP = "\x1f"  # between a note's kind, place and text in the session's flash list


@dataclass(frozen=True)
class Note:
    """A message for the next page: shown next to the form that caused it (`place` is the id of that
    page section; "" = the top of the page), a refusal as an alert, a confirmation as a status."""

    text: str
    error: bool = False
    place: str = ""

    def encoded(self) -> str:
        return _SEP.join(("error" if self.error else "info", self.place, self.text))

    @classmethod
    def decoded(cls, raw: str) -> Note:
        parts = raw.split(_SEP, 2)
        if len(parts) != 3:  # a cookie from before notes had a place
            return cls(raw)
        return cls(parts[2], parts[0] == "error", parts[1])


class Page:
    parts: PortalParts  # set for signed-in pages by serve_signed_in, from what the trigger handed in
    account_services: AccountServices  # set by serve, from what the trigger handed in

    def __init__(self, req: func.HttpRequest, settings: Settings, accounts: AccountStore, now: datetime):
        self.request, self.settings, self.now = req, settings, now
        self.method = req.method.upper()
        self.form = parse_form(req.get_body()) if self.method == "POST" else {}
        self.query = {key: str(value) for key, value in req.params.items()}
        self.client_ip = client_ip(req.headers)
        secure = settings.public_base_url.lower().startswith("https://")
        raw = sessions.read_cookie(req.headers.get("cookie", ""), sessions.cookie_name(secure))
        decoded = sessions.decode(raw, settings.session_secret, now) if raw else None
        self.session = decoded or sessions.anonymous(now)
        self._changed = decoded is None
        self.account: Account | None = None
        if self.session.signed_in:
            account = accounts.get(self.session.account_id)
            if account is not None and account.session_version == self.session.version:
                self.account = account
            else:  # signed out everywhere, or the password was reset since this cookie was issued
                self._replace_session(sessions.anonymous(now))

    @property
    def csrf_token(self) -> str:
        return csrf_token(self.settings.session_secret, self.session.csrf_secret)

    def csrf_ok(self) -> bool:
        return csrf_valid(
            self.settings.session_secret, self.session.csrf_secret, self.form.get(CSRF_FIELD, "")
        )

    def field(self, name: str) -> str:
        return self.form.get(name, "")

    def flash(self, message: str, *, error: bool = False, place: str = "") -> None:
        self._replace_session(self.session.with_flash(Note(message, error, place).encoded()))

    def sign_in(self, account: Account) -> None:
        """A brand-new session: new id and CSRF secret, so nothing known before sign-in is valid after."""
        self._replace_session(sessions.signed_in(account.id, account.session_version, self.now))
        self.account = account

    def sign_out(self) -> None:
        self._replace_session(sessions.anonymous(self.now))
        self.account = None

    def render(
        self, template: str, status: int = 200, /, places: Iterable[str] = (), **context: Any
    ) -> func.HttpResponse:
        """`places`: the section ids where this template shows notes itself (`notes_at[place]`); every
        other note is shown at the top of the page."""
        notes = [Note.decoded(raw) for raw in self.session.flash]
        if notes:
            self._replace_session(self.session.without_flash())
        placed = set(places)
        body = render(
            template,
            account=self.account,
            csrf_field=CSRF_FIELD,
            csrf_token=self.csrf_token,
            flash=[note for note in notes if note.place not in placed],
            notes_at={place: [note for note in notes if note.place == place] for place in placed},
            css_url=css_url(),
            **context,
        )
        return responses.html(body, status, self._cookie())

    def redirect(self, location: str) -> func.HttpResponse:
        return responses.redirect(location, self._cookie())

    def _replace_session(self, session: sessions.Session) -> None:
        self.session, self._changed = session, True

    def _cookie(self) -> str | None:
        if not self._changed:
            return None
        value = sessions.encode(self.session, self.settings.session_secret)
        secure = self.settings.public_base_url.lower().startswith("https://")
        return sessions.cookie_header(value, secure)


def css_url() -> str:
    return f"/static/app.css?v={stylesheet()[1]}"


# At most PORTAL_SLOTS portal pages are worked on at once per process: a flood of sign-ins or sign-ups
# waits (then gets 429) instead of taking the CPU the webhook and the queue workers share (issue 16).
# As many as can hash a password at once: more pages only wait for a hashing slot, and every page being
# worked on takes turns at the interpreter lock with the webhooks. bench/abuse.py, webhook p95 during the
# attack (idle ~10 ms): 4 slots 64-141 ms, 2 slots 33-40 ms, 1 slot 26 ms; the attack's pages took the
# same time with 2 as with 4 (6.0-6.6 s). On 2 cores HASH_SLOTS is 1 (one core always left to the
# webhooks): on a quiet machine webhook p95 during the attack 15-22 ms against 9-10 idle, where 2 slots
# gave 23-37 ms.
PORTAL_SLOTS = HASH_SLOTS
PORTAL_WAIT_SECONDS = 2.0
_portal_slots = threading.BoundedSemaphore(PORTAL_SLOTS)


class Root(Protocol):
    """What every portal page needs from the composition root (shared/bootstrap.py's App)."""

    @property
    def settings(self) -> Settings: ...

    def account_services(self) -> AccountServices: ...


def serve(req: func.HttpRequest, handler: Handler, root: Callable[[], Root]) -> func.HttpResponse:
    """`root` gives the worker's app: its settings and account services (page.account_services)."""
    declared = req.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:  # no portal form is that big: not read at all
        return too_large()
    if not _portal_slots.acquire(timeout=PORTAL_WAIT_SECONDS):
        return busy()
    try:
        return _serve(req, handler, root)
    finally:
        _portal_slots.release()


def _serve(req: func.HttpRequest, handler: Handler, root: Callable[[], Root]) -> func.HttpResponse:
    try:
        app = root()
        account_services = app.account_services()
        page = Page(req, app.settings, account_services.store, utc_now())
        page.account_services = account_services
        if page.method == "POST" and not page.csrf_ok():
            return page.render(
                "message.html",
                403,
                title="This form expired",
                lines=["This form expired — reload the page and try again."],
            )
        return handler(page)
    except HashingBusy:  # every password-hashing slot is taken: come back in a moment (issue 16)
        return busy()
    except Exception as error:
        path = urlsplit(req.url).path
        log.error("portal page %s %s failed: %s", req.method, path, type(error).__name__, exc_info=True)
        return server_error()


def busy() -> func.HttpResponse:
    body = "<!doctype html><title>Busy</title><p>Too many requests at this moment. Try again in a moment."
    return func.HttpResponse(
        body, status_code=429, mimetype="text/html", charset="utf-8",
        headers={**SECURITY_HEADERS, "Retry-After": "2", "Cache-Control": "no-store"},
    )  # fmt: skip


def too_large() -> func.HttpResponse:
    body = "<!doctype html><title>Too large</title><p>That form was far larger than any of ours. Try again."
    return func.HttpResponse(
        body, status_code=413, mimetype="text/html", charset="utf-8",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
    )  # fmt: skip


def server_error() -> func.HttpResponse:
    try:
        body = render(
            "message.html",
            account=None,
            csrf_field=CSRF_FIELD,
            csrf_token="",
            flash=(),
            css_url=css_url(),
            title="Something went wrong",
            lines=["Something went wrong on our side. Please try again in a minute."],
        )
    except Exception:  # the templates themselves are broken: still answer in words
        body = "<!doctype html><title>Something went wrong</title><p>Something went wrong. Try again."
    return responses.html(body, status=500)
