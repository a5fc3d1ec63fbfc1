"""The portal's account pages for anyone (landing, register, verify, sign in/out, forgotten password,
reset, confirming a new e-mail address) and the development mailbox: Page in, response out. Their
triggers are functions/portal_accounts.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from datetime import timedelta

    from shared.accounts.links import LinkProblem, Purpose
    from shared.web.pages import Page

AFTER_SIGN_IN = "/connections"


def landing(page: Page) -> func.HttpResponse:
    if page.account:
        return page.redirect(AFTER_SIGN_IN)
    return page.render("landing.html", title="Dynamics 365 invoices in Xero")


def _network_limited(wait: timedelta) -> dict[str, str]:
    from shared.accounts.throttle import minutes_text

    return {"email": f"Too many requests from your network. Try again in {minutes_text(wait)}."}


def signup(page: Page) -> func.HttpResponse:
    from shared.accounts.abuse import NetworkLimited
    from shared.accounts.registration import AlreadyRegistered, SignupForm, register

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
        registered = register(page.account_services, form, page.client_ip)
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


def signup_sent(page: Page) -> func.HttpResponse:
    return page.render("check_email.html", places=(_SENT, _UNSENT), title="Check your e-mail")


_ABOUT = {"terms": "Terms of the free trial and of service", "privacy": "Privacy", "support": "Support"}


def about(page: Page, name: str) -> func.HttpResponse:
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


def _link_problem(page: Page, problem: LinkProblem, purpose: Purpose) -> func.HttpResponse:
    title, explanation = _LINK_TEXT[problem.value]
    explanation = explanation.format(lifetime=_PASSWORD_PAGES[purpose][3])
    status = 400 if problem.value == "tampered" else 410
    return page.render("link_problem.html", status, title=title, explanation=explanation, purpose=purpose)


def password_from_link(page: Page, purpose: Purpose) -> func.HttpResponse:
    from shared.accounts.email_links import account_of_link, open_link
    from shared.accounts.links import LinkProblem
    from shared.accounts.password_setting import set_password_from_link

    svc = page.account_services
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


def _already_confirmed(page: Page, account_id: str) -> func.HttpResponse:
    """A used verification link of a confirmed account: no new link to ask for (none would be sent)."""
    text = "Your e-mail address is already confirmed and your password is set."
    if page.account is not None and page.account.id == account_id:
        page.flash(text)
        return page.redirect(AFTER_SIGN_IN)
    link = {"href": "/signin", "text": "Sign in"}
    lines = [text, "Sign in with it; if you forgot the password, choose a new one from the sign-in page."]
    return page.render("message.html", title="Already confirmed", lines=lines, link=link)


def _email_form(
    page: Page, action: str, sent_text: str, send: Callable[[str, str], None]
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


def forgot(page: Page) -> func.HttpResponse:
    from shared.accounts.recovery import request_reset

    svc = page.account_services
    sent = "If {email} is registered, we sent a link to choose a new password. It works once and for 1 hour."
    return _email_form(page, "/forgot", sent, lambda email, ip: request_reset(svc, email, ip))


def verify_resend(page: Page) -> func.HttpResponse:
    from shared.accounts.registration import resend_verification

    svc = page.account_services
    sent = "If {email} is registered and not yet confirmed, we sent a new link. It works for 24 hours."
    return _email_form(page, "/verify/resend", sent, lambda email, ip: resend_verification(svc, email, ip))


def signin(page: Page) -> func.HttpResponse:
    from shared.accounts.fields import email_problem
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
    result = sign_in(page.account_services, email, password, page.client_ip)
    if result.account is None:
        return page.render("signin.html", 429 if result.throttled else 401, errors=result.errors, **context)
    page.sign_in(result.account)
    return page.redirect(target or AFTER_SIGN_IN)


def signout(page: Page) -> func.HttpResponse:
    from shared.accounts.signin import end_sessions

    if page.account is not None:  # every copy of the cookie stops working, not just this browser's
        end_sessions(page.account_services, page.account.id)
    page.sign_out()
    page.flash("You are signed out.")
    return page.redirect("/")


def dev_mailbox(page: Page) -> func.HttpResponse:
    from shared.web.dev_mailbox import list_messages
    from shared.web.responses import not_found

    if not page.settings.dev_mailbox_dir:
        return not_found()
    messages = list_messages(page.settings.dev_mailbox_dir)
    return page.render("dev_mailbox.html", title="Development mailbox", messages=messages)


def dev_message(page: Page, name: str, as_html: bool) -> func.HttpResponse:
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


def confirm_email(page: Page) -> func.HttpResponse:
    from shared.accounts.links import LinkProblem
    from shared.accounts.settings import EmailTakenError, confirm_email_change

    try:
        confirmed = confirm_email_change(page.account_services, page.query.get("token", ""))
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
