"""Queue trigger of Xero's invoice events: read what changed in Xero, write it onto the Dynamics invoices."""

import azure.functions as func

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%XERO_EVENTS_QUEUE%", connection="AzureWebJobsStorage")
def xero_events(msg: func.QueueMessage, context: func.Context) -> None:
    from shared import bootstrap
    from shared.xero_inbound.apply import handle_xero_message

    body = msg.get_body().decode("utf-8", errors="replace")
    handle_xero_message(body, context.invocation_id, bootstrap.worker().xero_inbound_worker())
