"""GET /api/health: version and whether queue and table storage answer (200 ok / 503 degraded)."""

import json

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="api/health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    from shared.config import get_settings
    from shared.health import check_health

    result = check_health(get_settings())
    return func.HttpResponse(
        json.dumps(result.body),
        status_code=200 if result.ok else 503,
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )
