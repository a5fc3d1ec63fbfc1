"""Install into Dynamics, continued: each message is one run of one connection (shared/connections/
install_job.py), which the portal's button queued; waits and long runs come back as new messages."""

import azure.functions as func

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%INSTALL_QUEUE%", connection="AzureWebJobsStorage")
def dynamics_install(msg: func.QueueMessage, context: func.Context) -> None:
    from shared import bootstrap
    from shared.connections.install_job import handle_install_message

    body = msg.get_body().decode("utf-8", errors="replace")
    handle_install_message(body, context.invocation_id, bootstrap.worker().install_worker())
