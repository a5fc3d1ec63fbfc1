"""Hourly: e-mail the accounts whose free trial ends in 3 days, or tomorrow, without a subscription."""

import azure.functions as func

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 7 * * * *", run_on_startup=False)
def billing_trial_reminders(timer: func.TimerRequest) -> None:
    from shared import bootstrap

    bootstrap.worker().trial_reminders().run(bootstrap.utc_now())
