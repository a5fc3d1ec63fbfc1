"""Wiring only: the FunctionApp and one blueprint per entry point. Nothing heavy runs at import."""

import azure.functions as func

from functions import health

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health.bp)
