"""Invoke a user function: its arguments, a Context, one log line per invocation, in-flight tracking."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
import uuid
from typing import Any

import azure.functions as func

from local.host.index import FunctionSpec

log = logging.getLogger("local.host")


class InvocationContext(func.Context):
    def __init__(self, function_name: str, directory: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._directory = directory
        self._local = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._directory

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None


class Invoker:
    """Runs invocations and knows how many are in flight, so shutdown can wait for them."""

    def __init__(self) -> None:
        self._in_flight = 0
        self._idle = threading.Condition()

    def invoke(self, spec: FunctionSpec, trigger_value: Any, detail: str = "") -> Any:
        context = InvocationContext(spec.name, spec.source)
        kwargs: dict[str, Any] = {spec.trigger["name"]: trigger_value}
        if spec.wants_context:
            kwargs["context"] = context
        with self._idle:
            self._in_flight += 1
        started = time.perf_counter()
        outcome = "Succeeded"
        try:
            result = spec.user_function(**kwargs)
            if inspect.isawaitable(result):
                result = asyncio.run(_await(result))
            return result
        except BaseException:
            outcome = "Failed"
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.info(
                "Executed 'Functions.%s' (%s, Id=%s, Duration=%.0fms) trigger=%s %s",
                spec.name, outcome, context.invocation_id, elapsed_ms, spec.trigger_type, detail,
            )  # fmt: skip
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)


async def _await(awaitable: Any) -> Any:
    return await awaitable
