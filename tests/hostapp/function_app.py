"""A test function app with one function of each trigger type; each writes what it saw to files in
HOSTAPP_OUT so the tests can look at the effect from outside the host process."""

import json
import os
import time
from pathlib import Path

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


def _record(name: str, value: dict) -> None:
    with (Path(os.environ["HOSTAPP_OUT"]) / f"{name}.jsonl").open("a") as out:
        out.write(json.dumps(value) + "\n")


@app.route(route="items/{category:alpha}/{id:int?}", methods=["GET", "POST"])
def items(req: func.HttpRequest) -> func.HttpResponse:
    body = {
        "route": dict(req.route_params),
        "method": req.method,
        "q": req.params.get("q"),
        "body": req.get_body().decode(),
    }
    return func.HttpResponse(
        json.dumps(body), status_code=201, mimetype="application/json", headers={"X-Test": "yes"}
    )


@app.route(route="open", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def open_door(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("open")


@app.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin")


@app.route(route="slow", auth_level=func.AuthLevel.ANONYMOUS)
def slow(req: func.HttpRequest) -> func.HttpResponse:
    time.sleep(float(req.params.get("s", "1")))
    _record("slow", {"done": True})
    return func.HttpResponse("done")


@app.route(route="big", auth_level=func.AuthLevel.ANONYMOUS)
def big(req: func.HttpRequest) -> func.HttpResponse:
    # An answer far larger than the sockets' buffers: the host is still writing it after this returns.
    _record("big", {"returned": True})
    return func.HttpResponse(b"x" * (32 * 1024 * 1024))


@app.queue_trigger(arg_name="msg", queue_name="%GOOD_QUEUE%", connection="AzureWebJobsStorage")
def good_queue(msg: func.QueueMessage, context: func.Context) -> None:
    _record(
        "good",
        {
            "body": msg.get_body().decode(),
            "id": msg.id,
            "dequeue_count": msg.dequeue_count,
            "insertion_time": msg.insertion_time.isoformat() if msg.insertion_time else None,
            "invocation_id": context.invocation_id,
        },
    )


@app.queue_trigger(arg_name="msg", queue_name="always-fails", connection="AzureWebJobsStorage")
def failing_queue(msg: func.QueueMessage) -> None:
    _record("failing", {"dequeue_count": msg.dequeue_count, "at": time.time()})
    raise RuntimeError("this function always fails")


@app.timer_trigger(arg_name="timer", schedule="%TICK_SCHEDULE%", run_on_startup=False)
def tick(timer: func.TimerRequest) -> None:
    _record("tick", {"past_due": timer.past_due, "at": time.time()})
