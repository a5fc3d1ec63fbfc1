"""Queue triggers of the invoice push: one invoice per message, and the poison queue's last word."""

import azure.functions as func

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%INVOICE_QUEUE%", connection="AzureWebJobsStorage")
def invoice_push(msg: func.QueueMessage, context: func.Context) -> None:
    from shared import bootstrap
    from shared.sync.worker import handle_invoice_message

    body = msg.get_body().decode("utf-8", errors="replace")
    handle_invoice_message(
        body, msg.dequeue_count or 1, context.invocation_id, bootstrap.worker().invoice_worker()
    )


@bp.queue_trigger(arg_name="msg", queue_name="%INVOICE_QUEUE%-poison", connection="AzureWebJobsStorage")
def invoice_push_poison(msg: func.QueueMessage, context: func.Context) -> None:
    from shared import bootstrap
    from shared.sync.worker import handle_poison_message

    body = msg.get_body().decode("utf-8", errors="replace")
    handle_poison_message(body, context.invocation_id, bootstrap.worker().invoice_worker())
