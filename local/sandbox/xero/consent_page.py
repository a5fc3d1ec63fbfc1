"""The consent page of GET /identity/connect/authorize: small, labelled, keyboard-usable."""

from __future__ import annotations

from html import escape

from local.sandbox.xero.orgs import Org

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Xero Sandbox - allow access</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
fieldset{{border:1px solid #888;padding:1rem}} button{{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}}
.error{{color:#a00000}}</style></head>
<body><main>
<h1>{app_name} wants access to your Xero organisations</h1>
<p>It asks for these permissions:</p>
<ul>{scopes}</ul>
<form method="post" action="/identity/connect/authorize">
{hidden}
<fieldset><legend>Organisations to connect</legend>
{orgs}
</fieldset>
{error}
<p><button type="submit" name="decision" value="allow">Allow access</button>
<button type="submit" name="decision" value="cancel">Cancel</button></p>
</form></main></body></html>
"""

_ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Xero Sandbox - error</title></head>
<body><main><h1>Sorry, something went wrong</h1><p role="alert">{message}</p></main></body></html>
"""


def consent_html(
    app_name: str, scopes: list[str], params: dict[str, str], orgs: list[Org], error: str = ""
) -> str:
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    org_rows = "\n".join(
        f'<div><input type="checkbox" id="org-{i}" name="tenant" value="{escape(o.tenant_id)}">'
        f' <label for="org-{i}">{escape(o.name)}</label></div>'
        for i, o in enumerate(orgs)
    )
    return _PAGE.format(
        app_name=escape(app_name),
        scopes="".join(f"<li>{escape(s)}</li>" for s in scopes),
        hidden=hidden,
        orgs=org_rows or "<p>No organisations are available.</p>",
        error=f'<p class="error" role="alert">{escape(error)}</p>' if error else "",
    )


def error_html(message: str) -> str:
    return _ERROR_PAGE.format(message=escape(message))
