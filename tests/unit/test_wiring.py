"""One wiring test over app.get_functions(): names, triggers, routes, queues, schedules."""

from tests.app_index import triggers


def test_health_is_an_anonymous_get() -> None:
    trigger = triggers()["health"]
    assert trigger["type"] == "httpTrigger"
    assert trigger["route"] == "api/health"
    assert trigger["methods"] == ["GET"]
    assert trigger["authLevel"] == "ANONYMOUS"


def test_dynamics_webhook_is_an_anonymous_post_checked_by_its_own_key() -> None:
    trigger = triggers()["dynamics_webhook"]
    assert (trigger["type"], trigger["route"], trigger["methods"]) == (
        "httpTrigger",
        "api/dynamics/webhook",
        ["POST"],
    )
    assert trigger["authLevel"] == "ANONYMOUS"


def test_invoice_queue_and_its_poison_queue_are_served() -> None:
    push, poison = triggers()["invoice_push"], triggers()["invoice_push_poison"]
    assert (push["type"], push["queueName"], push["connection"]) == (
        "queueTrigger",
        "%INVOICE_QUEUE%",
        "AzureWebJobsStorage",
    )
    assert poison["queueName"] == "%INVOICE_QUEUE%-poison"


def test_xero_webhook_is_an_anonymous_post_checked_by_its_signature() -> None:
    trigger = triggers()["xero_webhook"]
    assert (trigger["type"], trigger["route"], trigger["methods"], trigger["authLevel"]) == (
        "httpTrigger",
        "api/xero/webhook",
        ["POST"],
        "ANONYMOUS",
    )


def test_xero_events_queue_is_served() -> None:
    trigger = triggers()["xero_events"]
    assert (trigger["type"], trigger["queueName"]) == ("queueTrigger", "%XERO_EVENTS_QUEUE%")


def test_the_sweep_runs_on_its_schedule_setting() -> None:
    trigger = triggers()["sweep"]
    assert (trigger["type"], trigger["schedule"]) == ("timerTrigger", "%SWEEP_SCHEDULE%")


def test_expired_oauth_state_is_purged_every_ten_minutes() -> None:
    trigger = triggers()["oauth_state_purge"]
    assert (trigger["type"], trigger["schedule"]) == ("timerTrigger", "0 */10 * * * *")


def test_the_activity_page_its_export_and_retry_are_routed_and_old_activity_expires_daily() -> None:
    found = triggers()
    routes = {
        name: (found[name]["route"], found[name]["methods"])
        for name in ("portal_activity", "portal_activity_csv", "portal_activity_retry")
    }
    assert routes == {
        "portal_activity": ("connections/{id}/activity", ["GET"]),
        "portal_activity_csv": ("connections/{id}/activity.csv", ["GET"]),
        "portal_activity_retry": ("connections/{id}/activity/retry", ["POST"]),
    }
    assert (found["activity_expiry"]["type"], found["activity_expiry"]["schedule"]) == (
        "timerTrigger",
        "0 40 3 * * *",
    )


def test_the_backfill_has_a_queue_of_its_own_beside_the_live_one() -> None:
    trigger = triggers()["backfill"]
    assert (trigger["type"], trigger["queueName"]) == ("queueTrigger", "%INVOICE_QUEUE%-backfill")


def test_install_into_dynamics_continues_on_its_own_queue() -> None:
    trigger = triggers()["dynamics_install"]
    assert (trigger["type"], trigger["queueName"], trigger["connection"]) == (
        "queueTrigger",
        "%INSTALL_QUEUE%",
        "AzureWebJobsStorage",
    )
