"""Pages for signed-in people only: the visitor is sent to sign in first (and back afterwards), and the
mistakes a person or a stale link can make end in a page that says so, never in a server error:
another account's or an unknown connection is "not found" (exactly like a missing one), a busy Xero or
Microsoft is "try again in a minute"."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote, urlsplit

import azure.functions as func

from shared.errors import NotFoundError, RetriableError
from shared.store.models import Account
from shared.web.pages import Page, Root, serve
from shared.web.parts import PortalParts

log = logging.getLogger("portal")
Handler = Callable[[Page, Account], func.HttpResponse]


class SignedInRoot(Root, Protocol):
    """What signed-in pages need from the composition root besides what every page does."""

    def portal(self) -> PortalParts: ...


def serve_signed_in(
    req: func.HttpRequest, handler: Handler, root: Callable[[], SignedInRoot]
) -> func.HttpResponse:
    """`root` gives the worker's app: the collaborators the pages use (page.parts, built once the visitor is
    signed in) and the account services every page reads the session's account with."""

    def guarded(page: Page) -> func.HttpResponse:
        if page.account is None:
            return page.redirect("/signin?next=" + quote(_come_back_to(req, page.method), safe="/"))
        page.parts = root().portal()
        try:
            return handler(page, page.account)
        except NotFoundError:
            return not_found_page(page)
        except RetriableError as busy:
            log.info("portal page %s: %s", urlsplit(req.url).path, type(busy).__name__)
            lines = ["Xero or Dynamics is not answering right now. Please try again in a minute."]
            return page.render("message.html", 503, title="Please try again in a minute", lines=lines)

    return serve(req, guarded, root)


def not_found_page(page: Page) -> func.HttpResponse:
    return page.render(
        "message.html",
        404,
        title="Connection not found",
        lines=[
            "There is no such connection in your account. It may have been deleted, or the link is wrong."
        ],
        link={"href": "/connections", "text": "See your connections"},
    )


def _come_back_to(req: func.HttpRequest, method: str) -> str:
    parts = urlsplit(req.url)
    if method != "GET":  # a form posted after the session ended: start again from the list
        return "/connections"
    return parts.path + (f"?{parts.query}" if parts.query else "")
