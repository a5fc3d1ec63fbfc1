"""One wiring test over app.get_functions(): names, triggers, routes, queues, schedules."""

from tests.app_index import triggers


def test_health_is_an_anonymous_get() -> None:
    trigger = triggers()["health"]
    assert trigger["type"] == "httpTrigger"
    assert trigger["route"] == "api/health"
    assert trigger["methods"] == ["GET"]
    assert trigger["authLevel"] == "ANONYMOUS"
