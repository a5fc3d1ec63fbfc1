"""The local Functions host, run as a real process on a test app with one function of each trigger type."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient

from local.azurite import Azurite
from local.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_KEY = "test-function-key"
MASTER_KEY = "test-master-key"


def _records(out: Path, name: str) -> list[dict]:
    path = out / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _wait_until(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


class RunningHost:
    def __init__(self, process: subprocess.Popen, port: int, out: Path, log: Path) -> None:
        self.process, self.port, self.out, self.log = process, port, out, log
        self.url = f"http://127.0.0.1:{port}"


def _start_host(app_dir: Path, azurite: Azurite, out: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({
        "AzureWebJobsStorage": azurite.connection_string,
        "HOSTAPP_OUT": str(out),
        "LOCAL_FUNCTION_KEY": FUNCTION_KEY,
        "LOCAL_MASTER_KEY": MASTER_KEY,
    })  # fmt: skip
    log = open(out / "host.log", "wb")  # noqa: SIM115 - the child writes to it
    return subprocess.Popen(
        [sys.executable, "-m", "local.host", "--root", str(app_dir), "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.fixture(scope="module")
def host(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    out = tmp_path_factory.mktemp("hostapp")
    port = free_port()
    process = _start_host(ROOT / "tests" / "hostapp", azurite, out, port)
    try:
        wait_for_port(port, timeout=30)
        yield RunningHost(process, port, out, out / "host.log")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _queue(azurite: Azurite, name: str) -> QueueClient:
    client = QueueClient.from_connection_string(azurite.connection_string, name)
    with contextlib.suppress(ResourceExistsError):
        client.create_queue()
    return client


def test_http_route_parameters_methods_and_keys(host: RunningHost) -> None:
    # GIVEN a function-level route with parameters WHEN called with the function key
    reply = requests.post(
        f"{host.url}/api/items/books/42?q=x", data=b"hello", headers={"x-functions-key": FUNCTION_KEY}
    )
    # THEN the function saw the route values, the query and the body, and its response comes back as built
    assert reply.status_code == 201
    assert reply.headers["X-Test"] == "yes"
    assert reply.json() == {
        "route": {"category": "books", "id": "42"},
        "method": "POST",
        "q": "x",
        "body": "hello",
    }
    # The optional parameter may be left out; the code query works like the header
    assert requests.get(f"{host.url}/api/items/books?code={FUNCTION_KEY}").json()["route"] == {
        "category": "books"
    }
    # A constraint that does not match, or an undeclared method, is 404 as in the Functions host
    assert requests.get(f"{host.url}/api/items/123?code={FUNCTION_KEY}").status_code == 404
    assert requests.delete(f"{host.url}/api/items/books?code={FUNCTION_KEY}").status_code == 404


def test_auth_levels_are_enforced(host: RunningHost) -> None:
    assert requests.get(f"{host.url}/api/items/books").status_code == 401
    assert requests.get(f"{host.url}/api/items/books?code=wrong").status_code == 401
    assert requests.get(f"{host.url}/api/open").text == "open"
    assert requests.get(f"{host.url}/api/admin-only?code={FUNCTION_KEY}").status_code == 401
    assert requests.get(f"{host.url}/api/admin-only", headers={"x-functions-key": MASTER_KEY}).text == "admin"


def test_queue_message_is_processed_once_with_its_metadata(host: RunningHost, azurite: Azurite) -> None:
    # GIVEN a base64 message, as the Functions host writes them
    queue = _queue(azurite, "good-queue")
    sent = queue.send_message(base64.b64encode(b'{"hello": "world"}').decode())
    # WHEN the host picks it up THEN the function gets the decoded body, id, dequeue count and insertion time
    seen = _wait_until(lambda: _records(host.out, "good"))
    assert seen[0]["body"] == '{"hello": "world"}'
    assert seen[0]["id"] == sent.id
    assert seen[0]["dequeue_count"] == 1
    assert seen[0]["insertion_time"]
    assert seen[0]["invocation_id"]
    time.sleep(2.5)  # longer than the visibility timeout: a message processed once must not come back
    assert len(_records(host.out, "good")) == 1
    assert queue.get_queue_properties().approximate_message_count == 0


def test_failing_message_goes_to_poison_after_max_dequeue_count(host: RunningHost, azurite: Azurite) -> None:
    # GIVEN a message whose function always fails, and host.json maxDequeueCount 3
    body = base64.b64encode(b"poison me").decode()
    _queue(azurite, "always-fails").send_message(body)
    poison = _queue(azurite, "always-fails-poison")
    # WHEN the host has tried it THEN it is in -poison with the body unchanged, after exactly 3 attempts
    moved = _wait_until(lambda: list(poison.peek_messages(max_messages=5)), timeout=30)
    assert [m.content for m in moved] == [body]
    attempts = _records(host.out, "failing")
    assert [a["dequeue_count"] for a in attempts] == [1, 2, 3]
    # and each retry waited for the visibility timeout (1 s) before coming back
    assert all(b["at"] - a["at"] >= 0.9 for a, b in zip(attempts, attempts[1:], strict=False))


def test_timer_fires_on_a_one_second_schedule(host: RunningHost) -> None:
    ticks = _wait_until(
        lambda: len(_records(host.out, "tick")) >= 3 and _records(host.out, "tick"), timeout=15
    )
    gaps = [b["at"] - a["at"] for a, b in zip(ticks, ticks[1:], strict=False)]
    assert all(0.5 < gap < 1.6 for gap in gaps[:2])
    assert ticks[0]["past_due"] is False


def test_log_line_per_invocation(host: RunningHost) -> None:
    requests.get(f"{host.url}/api/open")
    text = _wait_until(
        lambda: "Executed 'Functions.open_door' (Succeeded" in host.log.read_text() and host.log.read_text()
    )
    assert "trigger=httpTrigger" in text
    assert FUNCTION_KEY not in text and MASTER_KEY not in text


def test_sigterm_finishes_in_flight_work_and_leaves_no_process(azurite: Azurite, tmp_path: Path) -> None:
    port = free_port()
    process = _start_host(ROOT / "tests" / "hostapp", azurite, tmp_path, port)
    try:
        wait_for_port(port, timeout=30)
        import threading

        replies: list[int] = []
        caller = threading.Thread(
            target=lambda: replies.append(requests.get(f"http://127.0.0.1:{port}/api/slow?s=1.5").status_code)
        )
        caller.start()
        time.sleep(0.5)  # the request is in flight
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        caller.join(timeout=10)
        assert replies == [200]
        assert _records(tmp_path, "slow") == [{"done": True}]
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/api/open", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()


def test_sigterm_waits_until_every_answer_is_fully_written(azurite: Azurite, tmp_path: Path) -> None:
    # GIVEN a host writing a 32 MB answer to a client that has not read it yet: its function has returned
    port = free_port()
    process = _start_host(ROOT / "tests" / "hostapp", azurite, tmp_path, port)
    try:
        wait_for_port(port, timeout=30)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(b"GET /api/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            _wait_until(lambda: _records(tmp_path, "big"))
            # WHEN the host is told to stop, and has either exited or is waiting for that answer
            process.send_signal(signal.SIGTERM)
            _wait_until(
                lambda: process.poll() is not None or "HTTP answers to be written" in _log(tmp_path),
                timeout=30,
            )
            # THEN the client still receives the whole answer, and the host then exits cleanly
            received = _read_to_end(connection)
        assert process.wait(timeout=30) == 0
        head, body = received.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200")
        assert len(body) == 32 * 1024 * 1024 == _content_length(head)
    finally:
        if process.poll() is None:
            process.kill()


def _log(out: Path) -> str:
    return (out / "host.log").read_text()


def _read_to_end(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(1024 * 1024):
        chunks.append(chunk)
    return b"".join(chunks)


def _content_length(head: bytes) -> int:
    for line in head.decode().split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return int(value)
    raise AssertionError("no Content-Length")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("bad_json", "host.json: not valid JSON"),
        ("bad_queue_option", "extensions.queues.maxDequeueCount must be a whole number"),
        ("blob_trigger", "uses trigger type 'blobTrigger', which this local host cannot serve"),
    ],
)
def test_bad_configuration_stops_the_host_with_a_clear_message(
    setup: str, expected: str, tmp_path: Path
) -> None:
    app_dir = tmp_path / "app"
    source = ROOT / "tests" / ("hostapp_bad" if setup == "blob_trigger" else "hostapp")
    app_dir.mkdir()
    (app_dir / "function_app.py").write_text((source / "function_app.py").read_text())
    host_json = (source / "host.json").read_text()
    if setup == "bad_json":
        host_json = host_json[:-5]
    elif setup == "bad_queue_option":
        host_json = host_json.replace('"maxDequeueCount": 3', '"maxDequeueCount": "three"')
    (app_dir / "host.json").write_text(host_json)
    result = subprocess.run(
        [sys.executable, "-m", "local.host", "--root", str(app_dir), "--port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "HOSTAPP_OUT": str(tmp_path), "GOOD_QUEUE": "q", "TICK_SCHEDULE": "0 0 0 * * *"},
    )  # fmt: skip
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert str(app_dir) in result.stderr
