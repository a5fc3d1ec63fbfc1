"""The portal's account pages: landing, register, verify, sign in/out, forgotten password, reset, the
account's own settings; the stylesheet; and the development mailbox. Each trigger hands the request to
its page in shared/web/ (account_pages.py, account_page.py) with the collaborators it needs."""

from collections.abc import Callable
from typing import TYPE_CHECKING

import azure.functions as func

from functions._signed_in import serve as _serve_signed_in

if TYPE_CHECKING:
    from shared.web.pages import Page

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS


def _serve(req: func.HttpRequest, handler: Callable[["Page"], func.HttpResponse]) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web.pages import serve

    return serve(req, handler, bootstrap.worker)


@bp.route(route="/", methods=["GET"], auth_level=ANONYMOUS)
def portal_landing(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, account_pages.landing)


@bp.route(route="static/app.css", methods=["GET"], auth_level=ANONYMOUS)
def portal_stylesheet(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web.responses import stylesheet
    from shared.web.templating import stylesheet as css

    return stylesheet(css()[0])


@bp.route(route="signup", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_signup(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, account_pages.signup)


@bp.route(route="signup/sent", methods=["GET"], auth_level=ANONYMOUS)
def portal_signup_sent(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, account_pages.signup_sent)


@bp.route(route="terms", methods=["GET"], auth_level=ANONYMOUS)
def portal_terms(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, lambda page: account_pages.about(page, "terms"))


@bp.route(route="privacy", methods=["GET"], auth_level=ANONYMOUS)
def portal_privacy(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, lambda page: account_pages.about(page, "privacy"))


@bp.route(route="support", methods=["GET"], auth_level=ANONYMOUS)
def portal_support(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, lambda page: account_pages.about(page, "support"))


@bp.route(route="account/password", methods=["POST"], auth_level=ANONYMOUS)
def portal_account_password(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_page

    return _serve_signed_in(req, account_page.change_password_form)


@bp.route(route="account/email", methods=["POST"], auth_level=ANONYMOUS)
def portal_account_email(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_page

    return _serve_signed_in(req, account_page.change_email_form)


# Not signed-in only: the link proves the new address, and may be opened in another browser.
@bp.route(route="account/email/confirm", methods=["GET"], auth_level=ANONYMOUS)
def portal_account_email_confirm(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, account_pages.confirm_email)


@bp.route(route="account/delete", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_account_delete(req: func.HttpRequest) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web import account_page

    return _serve_signed_in(
        req, lambda page, account: account_page.delete_account_form(page, account, bootstrap.worker().billing)
    )


@bp.route(route="verify", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_verify(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, lambda page: account_pages.password_from_link(page, "verify"))


@bp.route(route="verify/resend", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_verify_resend(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, account_pages.verify_resend)


@bp.route(route="signin", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_signin(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, account_pages.signin)


@bp.route(route="signout", methods=["POST"], auth_level=ANONYMOUS)
def portal_signout(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, account_pages.signout)


@bp.route(route="forgot", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_forgot(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, account_pages.forgot)


@bp.route(route="reset", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_reset(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, lambda page: account_pages.password_from_link(page, "reset"))


@bp.route(route="dev/mailbox", methods=["GET"], auth_level=ANONYMOUS)
def portal_dev_mailbox(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    return _serve(req, account_pages.dev_mailbox)


@bp.route(route="dev/mailbox/{name}", methods=["GET"], auth_level=ANONYMOUS)
def portal_dev_message(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    name = req.route_params.get("name", "")
    return _serve(req, lambda page: account_pages.dev_message(page, name, as_html=False))


@bp.route(route="dev/mailbox/{name}/html", methods=["GET"], auth_level=ANONYMOUS)
def portal_dev_message_html(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_pages

    name = req.route_params.get("name", "")
    return _serve(req, lambda page: account_pages.dev_message(page, name, as_html=True))
