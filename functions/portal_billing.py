"""The account page's billing buttons: subscribe or change plan (Stripe Checkout, or an update of the
live subscription) and "Manage billing" (Stripe's Customer Portal). Each sends the browser to Stripe or
back to /account with a message (shared/web/billing_actions.py)."""

import azure.functions as func

from functions._signed_in import serve as _serve

bp = func.Blueprint()


@bp.route(route="account/billing/plan", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def portal_billing_plan(req: func.HttpRequest) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web.billing_actions import choose_plan

    return _serve(req, lambda page, account: choose_plan(page, account, bootstrap.worker().billing()))


@bp.route(route="account/billing/portal", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def portal_billing_portal(req: func.HttpRequest) -> func.HttpResponse:
    from shared import bootstrap
    from shared.web.billing_actions import open_portal

    return _serve(req, lambda page, account: open_portal(page, account, bootstrap.worker().billing()))
