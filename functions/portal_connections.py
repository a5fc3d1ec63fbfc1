"""The portal's connection pages: the list, a new connection, the connection page with its defaults,
Install into Dynamics, "Create connection", the reference-data buttons and the day's activity; and the
account page. Each trigger hands the request to its page in shared/web/ (connection_pages.py,
connection_page.py, account_page.py), the queues it may send to as arguments. Connecting the sides:
oauth_callbacks.py."""

import azure.functions as func

from functions._signed_in import route_id as _id
from functions._signed_in import serve as _serve

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS


@bp.route(route="connections", methods=["GET"], auth_level=ANONYMOUS)
def portal_connections(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connection_pages

    return _serve(req, connection_pages.list_page)


# Registered before connections/{id}: the literal route must win (as it does in Azure's router).
@bp.route(route="connections/new", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_connection_new(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connection_pages

    return _serve(req, connection_pages.new_connection)


@bp.route(route="connections/{id}", methods=["GET"], auth_level=ANONYMOUS)
def portal_connection(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web.connection_page import show_connection

    return _serve(req, lambda page, account: show_connection(page, account, _id(req)))


@bp.route(route="connections/{id}/defaults", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_defaults(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connection_pages

    return _serve(req, lambda page, account: connection_pages.save_defaults_form(page, account, _id(req)))


@bp.route(route="connections/{id}/plan", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_plan(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connection_pages

    return _serve(req, lambda page, account: connection_pages.save_plan_form(page, account, _id(req)))


@bp.route(route="connections/{id}/delete", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_connection_delete(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connection_pages

    return _serve(req, lambda page, account: connection_pages.delete_connection_form(page, account, _id(req)))


@bp.route(route="connections/{id}/install", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_install(req: func.HttpRequest) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web import connection_pages

    def send(message: str) -> object:
        return bootstrap.worker().install_queue().send_message(message)

    return _serve(req, lambda page, account: connection_pages.install_form(page, account, _id(req), send))


@bp.route(route="connections/{id}/solution.zip", methods=["GET"], auth_level=ANONYMOUS)
def portal_connection_solution(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connection_pages

    return _serve(req, lambda page, account: connection_pages.solution_download(page, account, _id(req)))


@bp.route(route="connections/{id}/uninstall", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_connection_uninstall(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connection_pages

    return _serve(req, lambda page, account: connection_pages.uninstall_form(page, account, _id(req)))


@bp.route(route="connections/{id}/webhook-key", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_webhook_key(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connection_pages

    return _serve(req, lambda page, account: connection_pages.rotate_key_form(page, account, _id(req)))


@bp.route(route="connections/{id}/activate", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_activate(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import connection_pages

    return _serve(req, lambda page, account: connection_pages.activate_form(page, account, _id(req)))


@bp.route(route="connections/{id}/reference", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_reference(req: func.HttpRequest) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web import connection_pages

    def send(message: str) -> object:
        return bootstrap.worker().reference_queue().send_message(message)

    return _serve(req, lambda page, account: connection_pages.reference_form(page, account, _id(req), send))


@bp.route(route="connections/{id}/retry", methods=["POST"], auth_level=ANONYMOUS)
def portal_connection_retry(req: func.HttpRequest) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web import connection_pages

    def send(message: str) -> object:
        return bootstrap.worker().invoice_queue().send_message(message)

    return _serve(req, lambda page, account: connection_pages.retry_form(page, account, _id(req), send))


@bp.route(route="account", methods=["GET", "POST"], auth_level=ANONYMOUS)
def portal_account(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import account_page

    return _serve(req, account_page.account_form)


@bp.route(route="connections/{id}/backfill/estimate", methods=["POST"], auth_level=ANONYMOUS)
def portal_backfill_estimate(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import backfill_pages

    return _serve(req, lambda page, account: backfill_pages.estimate_form(page, account, _id(req)))


@bp.route(route="connections/{id}/backfill/start", methods=["POST"], auth_level=ANONYMOUS)
def portal_backfill_start(req: func.HttpRequest) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web import backfill_pages

    return _serve(
        req,
        lambda page, account: backfill_pages.start_form(
            page, account, _id(req), bootstrap.worker().send_backfill
        ),
    )


@bp.route(route="connections/{id}/backfill/stop", methods=["POST"], auth_level=ANONYMOUS)
def portal_backfill_stop(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import backfill_pages

    return _serve(req, lambda page, account: backfill_pages.stop_form(page, account, _id(req)))
