"""Queue trigger of the backfill: one message, one page of older invoices sent to Xero."""

import azure.functions as func

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%INVOICE_QUEUE%-backfill", connection="AzureWebJobsStorage")
def backfill(msg: func.QueueMessage) -> None:
    from shared import bootstrap
    from shared.backfill.runner import handle_backfill_message

    handle_backfill_message(
        msg.get_body().decode("utf-8", errors="replace"), bootstrap.worker().backfill_worker()
    )
