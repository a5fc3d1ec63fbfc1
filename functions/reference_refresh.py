"""Reference data: a timer enqueues one refresh per active connection; a queue function does one."""

import azure.functions as func

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="%REFERENCE_REFRESH_SCHEDULE%", run_on_startup=False)
def reference_refresh_timer(timer: func.TimerRequest) -> None:
    from shared import bootstrap
    from shared.reference.worker import enqueue_all

    enqueue_all(bootstrap.worker().reference_worker())


@bp.queue_trigger(arg_name="msg", queue_name="%REFERENCE_QUEUE%", connection="AzureWebJobsStorage")
def reference_refresh(msg: func.QueueMessage, context: func.Context) -> None:
    from shared import bootstrap
    from shared.reference.worker import handle_refresh_message

    body = msg.get_body().decode("utf-8", errors="replace")
    handle_refresh_message(body, context.invocation_id, bootstrap.worker().reference_worker())
