"""Every five minutes: e-mail the owner of each running connection whose light turned red (once per
change; shared/connections/alerts.py)."""

import azure.functions as func

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=False)
def light_alerts_timer(timer: func.TimerRequest) -> None:
    from shared import bootstrap
    from shared.connections.alerts import alert_red_lights

    app = bootstrap.worker()
    svc = app.account_services()
    alert_red_lights(
        app.connections(), svc.store, svc.mailer, app.settings.public_base_url, bootstrap.utc_now
    )
