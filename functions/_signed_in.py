"""What the portal's blueprints share: serve a page to a signed-in account (imported on first use, so
the function app's import stays light) and the connection id of the route."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.web.signed_in import Handler


def serve(req: func.HttpRequest, handler: "Handler") -> func.HttpResponse:
    from shared import bootstrap
    from shared.web.signed_in import serve_signed_in

    return serve_signed_in(req, handler, bootstrap.worker)


def route_id(req: func.HttpRequest) -> str:
    return req.route_params.get("id", "")
