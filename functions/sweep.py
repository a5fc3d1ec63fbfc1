"""Timer: the sweep that heals what lost webhooks (Dynamics' or Xero's) left out of step."""

import azure.functions as func

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="%SWEEP_SCHEDULE%", run_on_startup=False, use_monitor=True)
def sweep(timer: func.TimerRequest) -> None:
    from shared import bootstrap
    from shared.xero_inbound.sweep import sweep_all

    sweep_all(bootstrap.worker().sweeper())
