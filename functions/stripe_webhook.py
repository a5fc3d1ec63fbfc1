"""POST /api/stripe/webhook: Stripe's signed events about subscriptions and invoices (shared/billing)."""

import json

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="api/stripe/webhook", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def stripe_webhook(req: func.HttpRequest) -> func.HttpResponse:
    # ANONYMOUS at the host: Stripe cannot send a function key; the Stripe-Signature header is the check.
    from shared import bootstrap
    from shared.billing.webhook import receive

    answer = receive(
        req.get_body(),
        req.headers.get("Stripe-Signature", ""),
        bootstrap.worker().billing(),
        bootstrap.utc_now(),
    )
    return func.HttpResponse(json.dumps(answer.body), status_code=answer.status, mimetype="application/json")
