"""GET /api/health: version and whether queue and table storage answer (200 ok / 503 degraded)."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="api/health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    from shared import bootstrap
    from shared.health import check_health
    from shared.web.responses import json_answer

    result = check_health(bootstrap.worker().settings)
    return json_answer(result.body, 200 if result.ok else 503)
