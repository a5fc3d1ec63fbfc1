"""Connecting a connection's two sides: "Connect to Xero" / "Connect to Dynamics" (POST → the consent or
sign-in page), the callbacks Xero and Microsoft send the browser back to (GET: with response_mode=query
the SameSite=Lax session cookie comes along), the page to pick one of several, disconnecting Xero, and
the app-only form for an application user in Dynamics. Each trigger hands the request to its page in
shared/web/connect_pages.py."""

import azure.functions as func

from functions._signed_in import route_id as _id
from functions._signed_in import serve as _serve

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS


@bp.route(route="connections/{id}/xero/connect", methods=["POST"], auth_level=ANONYMOUS)
def portal_xero_connect(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connect_pages

    return _serve(req, lambda page, account: connect_pages.begin(page, account, "xero", _id(req)))


@bp.route(route="connections/{id}/dynamics/connect", methods=["POST"], auth_level=ANONYMOUS)
def portal_dynamics_connect(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connect_pages

    return _serve(req, lambda page, account: connect_pages.begin(page, account, "dynamics", _id(req)))


@bp.route(route="oauth/xero/callback", methods=["GET"], auth_level=ANONYMOUS)
def oauth_xero_callback(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connect_pages

    return _serve(req, lambda page, account: connect_pages.callback(page, account, "xero"))


@bp.route(route="oauth/dynamics/callback", methods=["GET"], auth_level=ANONYMOUS)
def oauth_dynamics_callback(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connect_pages

    return _serve(req, lambda page, account: connect_pages.callback(page, account, "dynamics"))


@bp.route(route="oauth/xero/choose", methods=["POST"], auth_level=ANONYMOUS)
def oauth_xero_choose(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connect_pages

    return _serve(req, lambda page, account: connect_pages.choose(page, account, "xero"))


@bp.route(route="oauth/dynamics/choose", methods=["POST"], auth_level=ANONYMOUS)
def oauth_dynamics_choose(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connect_pages

    return _serve(req, lambda page, account: connect_pages.choose(page, account, "dynamics"))


@bp.route(route="connections/{id}/xero/disconnect", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_xero_disconnect(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connect_pages

    return _serve(req, lambda page, account: connect_pages.disconnect_xero(page, account, _id(req)))


@bp.route(route="connections/{id}/dynamics/app", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_dynamics_app(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connect_pages

    return _serve(req, lambda page, account: connect_pages.app_only(page, account, _id(req)))


@bp.route(route="connections/{id}/dynamics/onprem", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_dynamics_onprem(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import onprem_page

    return _serve(req, lambda page, account: onprem_page.onprem(page, account, _id(req)))
