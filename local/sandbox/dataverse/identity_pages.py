"""The stand-in's HTML: the sign-in page (pick a demo user, Accept or Cancel), error and sign-out pages.

Plain, accessible markup (labelled radio buttons in a fieldset, an alert for errors) so both people and
Playwright tests can drive it by role and label."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from werkzeug.wrappers import Response

from .identity_directory import User

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f2f2f2; color: #1b1b1b; }
main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 4px; }
fieldset { border: 1px solid #8a8886; padding: 1rem; }
.choice { margin: .5rem 0; }
.alert { border-left: 4px solid #a80000; padding: .5rem; background: #fde7e9; }
button { font: inherit; padding: .5rem 1.5rem; margin: 1rem .5rem 0 0; }
button[value=accept] { background: #0067b8; color: #fff; border: 1px solid #0067b8; }
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
_HEADERS = {"Content-Security-Policy": _CSP, "Cache-Control": "no-store"}
_SUBMIT_SCRIPT = "document.forms[0].submit()"
_SUBMIT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_SUBMIT_SCRIPT.encode()).digest()).decode()


def sign_in_page(
    *,
    tenant_name: str,
    action: str,
    request_id: str,
    users: list[User],
    selected: str,
    scopes: list[str],
    error: str = "",
) -> Response:
    described = ' aria-describedby="sign-in-error"' if error else ""
    alert = f'<p class="alert" role="alert" id="sign-in-error">{escape(error)}</p>' if error else ""
    choices = "\n".join(_choice(i, user, user.object_id == selected) for i, user in enumerate(users))
    permissions = "".join(f"<li>{escape(s)}</li>" for s in scopes) or "<li>Sign you in</li>"
    body = f"""<h1>Sign in to {escape(tenant_name)}</h1>
<p>Sandbox sign-in: choose a demo account. No password is needed.</p>
{alert}
<form method="post" action="{escape(action)}">
<input type="hidden" name="request" value="{escape(request_id)}">
<fieldset{described}>
<legend>Choose an account</legend>
{choices}
</fieldset>
<h2>The app asks to</h2>
<ul>{permissions}</ul>
<button type="submit" name="action" value="accept">Accept</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>"""
    return _page(f"Sign in to {tenant_name}", body, 400 if error else 200)


def error_page(code: int, message: str, status: int = 400) -> Response:
    body = f"""<h1>Sorry, but we're having trouble signing you in.</h1>
<p class="alert" role="alert">AADSTS{code}: {escape(message)}</p>"""
    return _page("Sign in error", body, status)


def form_post_page(redirect_uri: str, fields: list[tuple[str, str]]) -> Response:
    """response_mode=form_post: the browser POSTs the answer to the app, keeping the code out of URLs."""
    inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields)
    body = f"""<h1>Signing you in</h1>
<form method="post" action="{escape(redirect_uri)}">{inputs}
<noscript><button type="submit">Continue</button></noscript></form>
<script>{_SUBMIT_SCRIPT}</script>"""
    headers = {**_HEADERS, "Content-Security-Policy": f"{_CSP}; script-src '{_SUBMIT_HASH}'"}
    return _page("Signing you in", body, 200, headers)


def signed_out_page() -> Response:
    return _page(
        "Signed out", "<h1>You signed out of your account</h1><p>You can close this window.</p>", 200
    )


def _choice(index: int, user: User, checked: bool) -> str:
    mark = " checked" if checked else ""
    return (
        f'<div class="choice"><input type="radio" id="user-{index}" name="user" '
        f'value="{escape(user.object_id)}"{mark}> '
        f'<label for="user-{index}">{escape(user.display_name)} ({escape(user.upn)})</label></div>'
    )


def _page(title: str, body: str, status: int, headers: dict[str, str] | None = None) -> Response:
    html = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_STYLE}</style></head>
<body><main>
{body}
</main></body>
</html>"""
    return Response(html, status, mimetype="text/html", headers=headers or _HEADERS)
