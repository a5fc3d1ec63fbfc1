"""Small defences of issue 16: HSTS on every page, nosniff on JSON, the Azure SDK's request logging (which
would print table keys — encoded e-mail addresses) kept at WARNING once storage clients exist."""

from __future__ import annotations

import logging

from shared.config import Settings
from shared.storage import table_service
from shared.web.responses import html, json_answer


def test_pages_carry_hsts_and_json_answers_nosniff() -> None:
    assert html("<p>x</p>").headers["Strict-Transport-Security"].startswith("max-age=31536000")
    answer = json_answer({"ok": True}, 200)
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.mimetype == "application/json"


def test_the_azure_sdk_does_not_log_request_urls_once_storage_is_built() -> None:
    root, before = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.INFO)  # as the Functions worker logs by default
    logging.getLogger("azure").setLevel(logging.NOTSET)
    http_log = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
    try:
        assert http_log.isEnabledFor(logging.INFO)  # what it would do left alone
        table_service(Settings.from_env({"AzureWebJobsStorage": "UseDevelopmentStorage=true"}))
        assert not http_log.isEnabledFor(logging.INFO)
    finally:
        root.setLevel(before)
