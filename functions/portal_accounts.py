"""The portal's account pages: landing, register, verify, sign in/out, forgotten password, reset; the
stylesheet; and the development mailbox. Each trigger parses, calls one service, renders."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import azure.functions as func

if TYPE_CHECKING:
    from datetime import timedelta

    from shared.accounts.links import LinkProblem, Purpose
    from shared.store.models import Account
    from shared.web.pages import Page

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS
AFTER_SIGN_IN = "/connections"


def _serve(req: func.HttpRequest, handler: Callable[["Page"], func.HttpResponse]) -> func.HttpResponse:
    from shared.web.pages import serve

    return serve(req, handler)


def _serve_signed_in(
    req: func.HttpRequest, handler: Callable[["Page", "Account"], func.HttpResponse]
) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web.signed_in import serve_signed_in

    return serve_signed_in(req, handler, bootstrap.portal)


@bp.route(route="/", methods=["GET"], auth_level=ANONYMOUS)
def portal_landing(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _landing)


@bp.route(route="static/app.css", methods=["GET"], auth_level=ANONYMOUS)
def portal_stylesheet(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web.responses import stylesheet
    from shared.web.templating import stylesheet as css

    return stylesheet(css()[0])


@bp.route(route="signup", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_signup(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _signup)


@bp.route(route="signup/sent", methods=["GET"], auth_level=ANONYMOUS)
def portal_signup_sent(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _signup_sent)


@bp.route(route="terms", methods=["GET"], auth_level=ANONYMOUS)
def portal_terms(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page: _about(page, "terms"))


@bp.route(route="privacy", methods=["GET"], auth_level=ANONYMOUS)
def portal_privacy(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page: _about(page, "privacy"))


@bp.route(route="support", methods=["GET"], auth_level=ANONYMOUS)
def portal_support(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page: _about(page, "support"))


@bp.route(route="account/password", methods=["POST"], auth_level=ANONYMOUS)
def portal_account_password(req: func.HttpRequest) -> func.HttpResponse:
    return _serve_signed_in(req, _change_password)


@bp.route(route="account/email", methods=["POST"], auth_level=ANONYMOUS)
def portal_account_email(req: func.HttpRequest) -> func.HttpResponse:
    return _serve_signed_in(req, _change_email)


# Not signed-in only: the link proves the new address, and may be opened in another browser.
@bp.route(route="account/email/confirm", methods=["GET"], auth_level=ANONYMOUS)
def portal_account_email_confirm(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _confirm_email)


@bp.route(route="account/delete", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_account_delete(req: func.HttpRequest) -> func.HttpResponse:
    return _serve_signed_in(req, _delete_account)


@bp.route(route="verify", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_verify(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page: _password_from_link(page, "verify"))


@bp.route(route="verify/resend", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_verify_resend(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _verify_resend)


@bp.route(route="signin", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_signin(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _signin)


@bp.route(route="signout", methods=["POST"], auth_level=ANONYMOUS)
def portal_signout(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _signout)


@bp.route(route="forgot", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_forgot(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _forgot)


@bp.route(route="reset", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_reset(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page: _password_from_link(page, "reset"))


@bp.route(route="dev/mailbox", methods=["GET"], auth_level=ANONYMOUS)
def portal_dev_mailbox(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, _dev_mailbox)


@bp.route(route="dev/mailbox/{name}", methods=["GET"], auth_level=ANONYMOUS)
def portal_dev_message(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page: _dev_message(page, req.route_params.get("name", ""), as_html=False))


@bp.route(route="dev/mailbox/{name}/html", methods=["GET"], auth_level=ANONYMOUS)
def portal_dev_message_html(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, lambda page: _dev_message(page, req.route_params.get("name", ""), as_html=True))


# --- handlers: Page in, response out -------------------------------------------------------------------


def _landing(page: "Page") -> func.HttpResponse:
    if page.account:
        return page.redirect(AFTER_SIGN_IN)
    return page.render("landing.html", title="Dynamics 365 invoices in Xero")


def _network_limited(wait: "timedelta") -> dict[str, str]:
    from shared.accounts.throttle import minutes_text

    return {"email": f"Too many requests from your network. Try again in {minutes_text(wait)}."}


def _signup(page: "Page") -> func.HttpResponse:
    from shared.accounts.abuse import NetworkLimited
    from shared.accounts.registration import AlreadyRegistered, SignupForm, register
    from shared.accounts.services import services

    if page.account:
        return page.redirect(AFTER_SIGN_IN)
    form = SignupForm.from_form(page.form)
    title = "Register for the free trial"
    if page.method == "GET":
        return page.render("signup.html", title=title, form=form, errors={}, already_registered=False)
    errors = form.problems()
    if errors:
        return page.render(
            "signup.html", 400, title=title, form=form, errors=errors, already_registered=False
        )
    try:
        registered = register(services(page.settings), form, page.client_ip)
    except NetworkLimited as limited:
        limited_errors = _network_limited(limited.wait)
        return page.render(
            "signup.html", 429, title=title, form=form, errors=limited_errors, already_registered=False
        )
    except AlreadyRegistered:
        errors = {"email": "An account with this e-mail address already exists."}
        return page.render("signup.html", 409, title=title, form=form, errors=errors, already_registered=True)
    # Redirect after POST: reloading the next page never registers twice. The address rides in a note.
    page.flash(form.email, place=_SENT if registered.email_sent else _UNSENT)
    return page.redirect("/signup/sent")


_SENT, _UNSENT = "signup-sent", "signup-unsent"


def _signup_sent(page: "Page") -> func.HttpResponse:
    return page.render("check_email.html", places=(_SENT, _UNSENT), title="Check your e-mail")


_ABOUT = {"terms": "Terms of the free trial and of service", "privacy": "Privacy", "support": "Support"}


def _about(page: "Page", name: str) -> func.HttpResponse:
    return page.render(f"{name}.html", title=_ABOUT[name], contact=page.settings.email_from)


_LINK_TEXT = {
    "tampered": ("This link is not valid", "The link is incomplete or was changed. Use the whole link "
                 "from the e-mail, or ask for a new one."),
    "expired": ("This link has expired", "For your safety the links we send work for a limited time "
                "({lifetime}); this one is older."),
    "used": ("This link was already used", "Each link works once, and only the newest one we sent works."),
}  # fmt: skip
_PASSWORD_PAGES = {
    "verify": ("Choose your password", "/verify", "Save password and sign in", "24 hours"),
    "reset": ("Choose a new password", "/reset", "Save new password and sign in", "1 hour"),
}


def _link_problem(page: "Page", problem: "LinkProblem", purpose: "Purpose") -> func.HttpResponse:
    title, explanation = _LINK_TEXT[problem.value]
    explanation = explanation.format(lifetime=_PASSWORD_PAGES[purpose][3])
    status = 400 if problem.value == "tampered" else 410
    return page.render("link_problem.html", status, title=title, explanation=explanation, purpose=purpose)


def _password_from_link(page: "Page", purpose: "Purpose") -> func.HttpResponse:
    from shared.accounts.email_links import account_of_link, open_link
    from shared.accounts.links import LinkProblem
    from shared.accounts.password_setting import set_password_from_link
    from shared.accounts.services import services

    svc = services(page.settings)
    title, action, button, _ = _PASSWORD_PAGES[purpose]
    token = page.field("token") if page.method == "POST" else page.query.get("token", "")
    form = {"title": title, "action": action, "button": button, "token": token}
    if page.method == "GET":
        opened = open_link(svc, token, purpose)
        if opened is LinkProblem.USED and purpose == "verify":
            owner = account_of_link(svc, token, purpose)
            if owner is not None and owner.email_verified and owner.password_hash:
                return _already_confirmed(page, owner.id)
        if isinstance(opened, LinkProblem):
            return _link_problem(page, opened, purpose)
        return page.render("set_password.html", email=opened.email, errors={}, **form)
    outcome = set_password_from_link(svc, token, purpose, page.field("password"), page.field("confirm"))
    if outcome.problem is not None:
        return _link_problem(page, outcome.problem, purpose)
    if outcome.account is None:
        return page.render("set_password.html", 400, email=outcome.email, errors=outcome.errors, **form)
    page.sign_in(outcome.account)
    if purpose == "reset":
        page.flash("Your password is changed, and every other session was signed out.")
    else:
        page.flash("Your e-mail address is confirmed and your password is set. Welcome!")
    return page.redirect(AFTER_SIGN_IN)


def _already_confirmed(page: "Page", account_id: str) -> func.HttpResponse:
    """A used verification link of a confirmed account: no new link to ask for (none would be sent)."""
    text = "Your e-mail address is already confirmed and your password is set."
    if page.account is not None and page.account.id == account_id:
        page.flash(text)
        return page.redirect(AFTER_SIGN_IN)
    link = {"href": "/signin", "text": "Sign in"}
    lines = [text, "Sign in with it; if you forgot the password, choose a new one from the sign-in page."]
    return page.render("message.html", title="Already confirmed", lines=lines, link=link)


def _email_form(
    page: "Page", action: str, sent_text: str, send: Callable[[str, str], None]
) -> func.HttpResponse:
    from shared.accounts.abuse import NetworkLimited
    from shared.accounts.fields import email_problem

    titles = {"/forgot": "Forgotten your password?", "/verify/resend": "Send the e-mail link again"}
    intros = {
        "/forgot": "Enter the e-mail address you registered with and we send you a link to choose a new one.",
        "/verify/resend": "Enter the e-mail address you registered with and we send you a new link.",
    }
    context = {"title": titles[action], "intro": intros[action], "action": action, "button": "Send the link"}
    email = page.field("email").strip()
    if page.method == "GET":
        return page.render("email_form.html", email="", errors={}, sent="", **context)
    problem = email_problem(email)
    if problem:
        return page.render("email_form.html", 400, email=email, errors={"email": problem}, sent="", **context)
    try:
        send(email, page.client_ip)
    except NetworkLimited as limited:
        errors = _network_limited(limited.wait)
        return page.render("email_form.html", 429, email=email, errors=errors, sent="", **context)
    return page.render(
        "email_form.html", email=email, errors={}, sent=sent_text.format(email=email), **context
    )


def _forgot(page: "Page") -> func.HttpResponse:
    from shared.accounts.recovery import request_reset
    from shared.accounts.services import services

    svc = services(page.settings)
    sent = "If {email} is registered, we sent a link to choose a new password. It works once and for 1 hour."
    return _email_form(page, "/forgot", sent, lambda email, ip: request_reset(svc, email, ip))


def _verify_resend(page: "Page") -> func.HttpResponse:
    from shared.accounts.registration import resend_verification
    from shared.accounts.services import services

    svc = services(page.settings)
    sent = "If {email} is registered and not yet confirmed, we sent a new link. It works for 24 hours."
    return _email_form(page, "/verify/resend", sent, lambda email, ip: resend_verification(svc, email, ip))


def _signin(page: "Page") -> func.HttpResponse:
    from shared.accounts.fields import email_problem
    from shared.accounts.services import services
    from shared.accounts.signin import sign_in
    from shared.web.forms import safe_next

    target = safe_next(page.field("next") if page.method == "POST" else page.query.get("next"))
    if page.account:
        return page.redirect(target or AFTER_SIGN_IN)
    email, password = page.field("email").strip(), page.field("password")
    context = {"title": "Sign in", "next": target or "", "email": email}
    if page.method == "GET":
        return page.render("signin.html", errors={}, **context)
    errors = {"email": email_problem(email) or "", "password": "" if password else "Enter your password."}
    errors = {name: message for name, message in errors.items() if message}
    if errors:
        return page.render("signin.html", 400, errors=errors, **context)
    result = sign_in(services(page.settings), email, password, page.client_ip)
    if result.account is None:
        return page.render("signin.html", 429 if result.throttled else 401, errors=result.errors, **context)
    page.sign_in(result.account)
    return page.redirect(target or AFTER_SIGN_IN)


def _signout(page: "Page") -> func.HttpResponse:
    from shared.accounts.services import services
    from shared.accounts.signin import end_sessions

    if page.account is not None:  # every copy of the cookie stops working, not just this browser's
        end_sessions(services(page.settings), page.account.id)
    page.sign_out()
    page.flash("You are signed out.")
    return page.redirect("/")


def _dev_mailbox(page: "Page") -> func.HttpResponse:
    from shared.web.dev_mailbox import list_messages
    from shared.web.responses import not_found

    if not page.settings.dev_mailbox_dir:
        return not_found()
    messages = list_messages(page.settings.dev_mailbox_dir)
    return page.render("dev_mailbox.html", title="Development mailbox", messages=messages)


def _dev_message(page: "Page", name: str, as_html: bool) -> func.HttpResponse:
    from shared.web.dev_mailbox import find_message
    from shared.web.responses import SECURITY_HEADERS, not_found

    message = find_message(page.settings.dev_mailbox_dir, name) if page.settings.dev_mailbox_dir else None
    if message is None:
        return not_found()
    if not as_html:
        return page.render("dev_message.html", title=message.subject, message=message)
    # The e-mail's own HTML, in a sandbox: no script, nothing loaded, only its inline styles.
    policy = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": policy, "Cache-Control": "no-store"}
    return func.HttpResponse(message.html, mimetype="text/html", charset="utf-8", headers=headers)


# --- the signed-in account's own settings --------------------------------------------------------------


def _change_password(page: "Page", account: "Account") -> func.HttpResponse:
    from shared.accounts.services import services
    from shared.accounts.settings import change_password
    from shared.web.account_page import show_account

    changed = change_password(
        services(page.settings), account, page.field("current_password"), page.field("password"),
        page.field("confirm"),
    )  # fmt: skip
    if changed.account is None:
        return show_account(page, account, 400, changed.errors)
    page.sign_in(changed.account)  # this session carries on; every other one ended
    page.flash("Your password is changed, and every other session was signed out.", place="change-password")
    return page.redirect("/account#change-password")


def _change_email(page: "Page", account: "Account") -> func.HttpResponse:
    from shared.accounts.services import services
    from shared.accounts.settings import request_email_change

    new_email = page.field("new_email").strip()
    changed = request_email_change(services(page.settings), account, new_email, page.field("email_password"))
    if changed.account is None:
        from shared.web.account_page import show_account

        return show_account(page, account, 400, changed.errors, posted={"new_email": new_email})
    page.flash(
        f"We sent a link to {changed.account.pending_email}. Your address changes when you open it "
        "(within 24 hours).",
        place="change-email",
    )
    return page.redirect("/account#change-email")


def _confirm_email(page: "Page") -> func.HttpResponse:
    from shared.accounts.links import LinkProblem
    from shared.accounts.services import services
    from shared.accounts.settings import EmailTakenError, confirm_email_change

    try:
        confirmed = confirm_email_change(services(page.settings), page.query.get("token", ""))
    except EmailTakenError:
        lines = ["Another account registered this e-mail address meanwhile. Your address is unchanged."]
        return page.render("message.html", 409, title="E-mail address not changed", lines=lines)
    if isinstance(confirmed, LinkProblem):
        title, explanation = _LINK_TEXT[confirmed.value]
        lines = [explanation.format(lifetime="24 hours"), "Ask for a new link on your account page."]
        link = {"href": "/account#change-email", "text": "Your account"}
        return page.render("message.html", 410, title=title, lines=lines, link=link)
    page.flash(f"Your e-mail address is now {confirmed.email}.", place="change-email")
    if page.account is not None and page.account.id == confirmed.id:
        return page.redirect("/account#change-email")
    return page.redirect("/signin")


def _delete_account(page: "Page", account: "Account") -> func.HttpResponse:
    from shared import bootstrap
    from shared.accounts.services import services
    from shared.accounts.settings import delete_account
    from shared.connections.connections import list_for_account
    from shared.web.connect_flows import delete_connection

    connections = list_for_account(bootstrap.connections(), account.id)
    context: dict[str, Any] = {"title": "Delete your account?", "connections": connections}
    if page.method == "GET":
        return page.render("delete_account.html", errors={}, **context)
    deleted = delete_account(
        services(page.settings),
        account,
        page.field("delete_password"),
        [c.id for c in connections],
        lambda connection_id: delete_connection(page, account.id, connection_id),
        _cancel_subscription,
    )
    if deleted.account is None:
        return page.render("delete_account.html", 400, errors=deleted.errors, **context)
    page.sign_out()
    page.flash("Your account and its connections are deleted. Thank you for trying the connector.")
    return page.redirect("/")


def _cancel_subscription(account: "Account") -> str:
    """ "" when nothing is charged any more; else why the account cannot be deleted yet."""
    import stripe

    from shared import bootstrap
    from shared.billing.client import BillingNotConfiguredError

    try:
        bootstrap.billing().cancel_now(account)
    except (stripe.StripeError, BillingNotConfiguredError):
        return (
            "We could not cancel your subscription at Stripe just now, so nothing was deleted. "
            "Try again in a minute."
        )
    return ""
