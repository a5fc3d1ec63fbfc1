"""The local host: index the app, then serve HTTP, queue and timer triggers until stopped."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from local.host.app_settings import apply_settings
from local.host.errors import HostStartupError
from local.host.host_json import HostConfig, load_host_config
from local.host.http_routes import Route, build_route
from local.host.http_server import HttpTriggerApp, make_http_server
from local.host.index import FunctionSpec, index_functions, load_app
from local.host.invoker import Invoker
from local.host.queue_listener import QueueListener
from local.host.timers import TimerRunner
from local.wsgi_server import WsgiServer

log = logging.getLogger("local.host")
DEFAULT_PORT = 7071


@dataclass
class Host:
    project_root: Path
    app_target: str = "function_app:app"
    port: int = DEFAULT_PORT
    host_json: Path | None = None
    config: HostConfig = field(init=False)
    functions: list[FunctionSpec] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.invoker = Invoker()
        self._server: WsgiServer | None = None
        self._listeners: list[QueueListener] = []
        self._timers: list[TimerRunner] = []

    def prepare(self) -> None:
        """Everything that can fail at start: settings, host.json, indexing, bindings, routes."""
        apply_settings(self.project_root)
        self.config = load_host_config(self.host_json or self.project_root / "host.json")
        app = load_app(self.app_target, self.project_root)
        self.functions = [spec for spec in index_functions(app) if not _disabled(spec.name)]
        routes: list[Route] = []
        for spec in self.functions:
            if spec.trigger_type == "httpTrigger":
                try:
                    routes.append(build_route(spec, self.config.route_prefix))
                except ValueError as error:
                    raise HostStartupError(f"{spec.source}: function {spec.name}: {error}") from None
            elif spec.trigger_type == "queueTrigger":
                self._listeners.append(
                    QueueListener(spec, self.config.queues, self.invoker, self.config.function_timeout)
                )
            else:
                self._timers.append(TimerRunner(spec, self.invoker))
        server = make_http_server(HttpTriggerApp(routes, self.invoker), self.port)
        self.port = server.port
        self._server = server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self._server is not None, "prepare() first"
        self._server.start()
        for listener in self._listeners:
            listener.start()
        for timer in self._timers:
            timer.start()
        for spec in self.functions:
            log.info(
                "Function %s: %s", spec.name, _describe_trigger(spec, self.config.route_prefix, self.url)
            )
        log.info("Host started (pid %s): %s", os.getpid(), self.url)

    def close_unstarted(self) -> None:
        """Release what prepare() took (the port) when the host is not going to start after all."""
        if self._server is not None:
            self._server.close_unstarted()
            self._server = None

    def stop(self, grace_seconds: float = 30.0) -> None:
        """Stop taking work, let in-flight invocations finish and their answers be written, then close."""
        deadline = time.monotonic() + grace_seconds
        # The HTTP server stops accepting at once and then waits for its requests' answers; meanwhile
        # the queues and timers stop fetching and their invocations finish.
        http_stop = threading.Thread(target=self._stop_http, args=(grace_seconds,), name="http-stop")
        if self._server is not None:
            http_stop.start()
        for timer in self._timers:
            timer.stop()
        for listener in self._listeners:
            listener.stop()
        if not self.invoker.wait_idle(max(0.0, deadline - time.monotonic())):
            log.warning("stopping with invocations still running after %.0f s", grace_seconds)
        if http_stop.is_alive():
            http_stop.join()
        log.info("Host stopped")

    def _stop_http(self, grace_seconds: float) -> None:
        assert self._server is not None
        if unanswered := self._server.requests_in_flight():
            log.info("waiting for %d HTTP answers to be written", unanswered)
        if not self._server.stop(grace_seconds):
            log.warning("stopping with HTTP answers still being written after %.0f s", grace_seconds)


def _disabled(function_name: str) -> bool:
    """The Functions host's app setting `AzureWebJobs.<name>.Disabled` (e.g. to keep a queue untouched)."""
    value = os.environ.get(f"AzureWebJobs.{function_name}.Disabled", "")
    if value.strip().lower() in ("1", "true", "yes"):
        log.info("Function %s is disabled by its app setting", function_name)
        return True
    return False


def _describe_trigger(spec: FunctionSpec, prefix: str, url: str) -> str:
    trigger = spec.trigger
    if spec.trigger_type == "httpTrigger":
        methods = ",".join(trigger.get("methods") or ["*"])
        path = "/".join(part for part in (prefix, trigger.get("route") or spec.name) if part)
        return f"[{methods}] {url}/{path}"
    if spec.trigger_type == "queueTrigger":
        return f"queueTrigger {trigger.get('queueName')}"
    return f"timerTrigger {trigger.get('schedule')}"
