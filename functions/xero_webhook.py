"""POST /api/xero/webhook: verify x-xero-signature, queue the invoice ids, answer 200 (empty) or 401."""

import azure.functions as func

bp = func.Blueprint()
SIGNATURE_HEADER = "x-xero-signature"


@bp.route(route="api/xero/webhook", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def xero_webhook(req: func.HttpRequest) -> func.HttpResponse:
    # ANONYMOUS at the host: Xero cannot send a function key; the signature is the proof.
    from shared import bootstrap
    from shared.xero_inbound.intake import accept_xero_webhook

    app = bootstrap.worker()
    answer = accept_xero_webhook(
        req.get_body(),
        req.headers.get(SIGNATURE_HEADER),
        app.settings.xero_webhook_key,
        lambda message: app.xero_events_queue().send_message(message.to_json()),
        bootstrap.utc_now,
    )
    return func.HttpResponse(b"", status_code=answer.status)  # Xero wants an empty body either way
