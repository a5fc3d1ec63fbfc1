"""POST /api/dynamics/webhook: verify the connection's key, enqueue the invoice's ids, answer 202."""

import azure.functions as func

bp = func.Blueprint()
KEY_HEADER = "x-webhook-key"


@bp.route(route="api/dynamics/webhook", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def dynamics_webhook(req: func.HttpRequest) -> func.HttpResponse:
    # ANONYMOUS at the host: Dynamics sends the connection's own key as ?code=, checked in accept_webhook.
    from shared import bootstrap
    from shared.sync.intake import MAX_BODY_BYTES, accept_webhook
    from shared.web.responses import json_answer

    declared = req.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:  # refused by its length, before any reading
        return json_answer({"error": "the body is over 1 MB", "field": "body"}, 413)
    key = req.params.get("code") or req.headers.get(KEY_HEADER) or ""
    app = bootstrap.worker()
    queue = app.invoice_queue()
    answer = accept_webhook(
        req.get_body(),
        req.headers,
        key,
        app.recent_connections(),
        lambda event: queue.send_message(event.to_json()),
        bootstrap.utc_now,
    )
    return json_answer(answer.body, answer.status)
