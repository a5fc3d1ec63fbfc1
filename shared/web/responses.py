"""HTTP responses for the portal: HTML pages with security headers, 303 redirects, the stylesheet.

At most one Set-Cookie per response: the Python worker turns Set-Cookie headers into cookie objects by
parsing them, and one cookie per response keeps that path simple."""

from __future__ import annotations

import azure.functions as func

# No inline script or style anywhere; forms post only to this site; the portal is never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Browsers ignore it over plain http (RFC 6797 §8.1), so it is safe locally; in Azure: a year of https.
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
ONE_YEAR = 365 * 24 * 3600


def _headers(cookie: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store", **(extra or {})}
    if cookie:
        headers["Set-Cookie"] = cookie
    return headers


def html(body: str, status: int = 200, cookie: str | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        body, status_code=status, mimetype="text/html", charset="utf-8", headers=_headers(cookie)
    )


def redirect(location: str, cookie: str | None = None) -> func.HttpResponse:
    """303 See Other: after a POST the browser follows with a GET, so reloading never re-submits."""
    return func.HttpResponse(status_code=303, headers=_headers(cookie, {"Location": location}))


def download(body: bytes, file_name: str, mimetype: str) -> func.HttpResponse:
    """A file the browser saves (Content-Disposition: attachment, RFC 6266) instead of showing."""
    headers = _headers(None, {"Content-Disposition": f'attachment; filename="{file_name}"'})
    return func.HttpResponse(body, mimetype=mimetype, headers=headers)


def stylesheet(body: bytes) -> func.HttpResponse:
    return func.HttpResponse(
        body,
        mimetype="text/css",
        charset="utf-8",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": f"public, max-age={ONE_YEAR}, immutable",
        },
    )


def not_found() -> func.HttpResponse:
    return func.HttpResponse("Not found", status_code=404, mimetype="text/plain", headers=SECURITY_HEADERS)


def json_answer(body: object, status: int) -> func.HttpResponse:
    """A JSON answer (webhooks, health): never sniffed as something else, never cached."""
    import json

    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    return func.HttpResponse(
        json.dumps(body), status_code=status, mimetype="application/json", headers=headers
    )
