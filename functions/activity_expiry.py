"""Daily: activity rows older than the retention (shared/store/activity.py, RETENTION_DAYS) are deleted."""

import azure.functions as func

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 40 3 * * *", run_on_startup=False)
def activity_expiry(timer: func.TimerRequest) -> None:
    from shared import bootstrap

    bootstrap.worker().activity().expire()
