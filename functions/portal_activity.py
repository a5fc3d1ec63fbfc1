"""A connection's Activity page: the list with its filters, the CSV export, and Retry of one invoice; and
the pre-flight "Check connection" (shared/web/preflight_pages.py).
Each trigger hands the request to shared/web/activity_pages.py, the invoice queue (Retry) as an argument."""

import azure.functions as func

from functions._signed_in import route_id as _id
from functions._signed_in import serve as _serve

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS


@bp.route(route="connections/{id}/activity", methods=["GET"], auth_level=ANONYMOUS)
def portal_activity(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import activity_pages

    return _serve(req, lambda page, account: activity_pages.activity_page(page, account, _id(req)))


@bp.route(route="connections/{id}/activity.csv", methods=["GET"], auth_level=ANONYMOUS)
def portal_activity_csv(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import activity_pages

    return _serve(req, lambda page, account: activity_pages.activity_csv(page, account, _id(req)))


@bp.route(route="connections/{id}/activity/retry", methods=["POST"], auth_level=ANONYMOUS)
def portal_activity_retry(req: func.HttpRequest) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web import activity_pages

    def send(message: str) -> object:
        return bootstrap.worker().invoice_queue().send_message(message)

    return _serve(req, lambda page, account: activity_pages.retry_one(page, account, _id(req), send))


@bp.route(route="connections/{id}/check", methods=["POST"], auth_level=ANONYMOUS)
def portal_preflight_check(req: func.HttpRequest) -> func.HttpResponse:
    from shared.web import preflight_pages

    return _serve(req, lambda page, account: preflight_pages.check_form(page, account, _id(req)))
