"""Errors in the shape Entra ID (AAD) uses, so the connector's error handling meets the real thing.

The connector must key off `error` (invalid_grant means "reconnect"), never off the description text."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from werkzeug.wrappers import Response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    def __init__(self, error: str, code: int, message: str, status: int = 400) -> None:
        super().__init__(f"{error}: AADSTS{code}: {message}")
        self.error = error
        self.code = code
        self.message = message
        self.status = status

    def description(self, trace_id: str, correlation_id: str, timestamp: str) -> str:
        return (
            f"AADSTS{self.code}: {self.message} Trace ID: {trace_id} "
            f"Correlation ID: {correlation_id} Timestamp: {timestamp}"
        )


def oauth_error_response(error: OAuthError, correlation_id: str | None) -> Response:
    trace_id = str(uuid.uuid4())
    correlation_id = correlation_id or str(uuid.uuid4())
    timestamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": error.error,
        "error_description": error.description(trace_id, correlation_id, timestamp),
        "error_codes": [error.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={error.code}",
    }
    return Response(json.dumps(body), error.status, mimetype="application/json", headers=NO_STORE)


def invalid_request(message: str) -> OAuthError:
    return OAuthError("invalid_request", 900144, message)


def missing_parameter(name: str) -> OAuthError:
    return invalid_request(f"The request body must contain the following parameter: '{name}'.")
