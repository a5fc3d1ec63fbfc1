"""Timer triggers: NCRONTAB or TimeSpan schedules, `%SETTING%` expressions, run_on_startup, past_due."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from local.host import ncrontab
from local.host.app_settings import resolve_setting_expression
from local.host.errors import HostStartupError
from local.host.host_json import parse_timespan
from local.host.index import FunctionSpec
from local.host.invoker import Invoker

log = logging.getLogger("local.host")
# A run that starts this much after its scheduled time is past due (the host's check is similar).
PAST_DUE_AFTER = timedelta(seconds=1)


def _next_function(expression: str) -> Callable[[datetime], datetime]:
    if ":" in expression and " " not in expression.strip():
        interval = timedelta(seconds=parse_timespan(expression))
        return lambda moment: moment + interval
    schedule = ncrontab.parse(expression)
    return schedule.next_after


class TimerRunner:
    def __init__(self, spec: FunctionSpec, invoker: Invoker) -> None:
        self.spec = spec
        self.invoker = invoker
        raw = str(spec.trigger.get("schedule", ""))
        try:
            self.expression = resolve_setting_expression(raw)
            self._next = _next_function(self.expression)
        except ValueError as error:
            raise HostStartupError(f"{spec.source}: function {spec.name}: {error}") from None
        self.run_on_startup = bool(spec.trigger.get("runOnStartup", False))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"timer-{spec.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        if self.run_on_startup:
            self._fire(datetime.now(UTC), past_due=False)
        due = self._next(datetime.now(UTC))
        while not self._stop.is_set():
            wait = (due - datetime.now(UTC)).total_seconds()
            if wait > 0 and self._stop.wait(min(wait, 1.0)):
                return
            now = datetime.now(UTC)
            if now < due:
                continue
            self._fire(due, past_due=now - due > PAST_DUE_AFTER)
            # Occurrences missed while the function ran are not replayed one by one (as in Azure).
            due = self._next(datetime.now(UTC))

    def _fire(self, scheduled: datetime, past_due: bool) -> None:
        request = TimerRequest(
            past_due=past_due,
            schedule={"AdjustForDST": True},
            schedule_status={"Last": scheduled.isoformat(), "Next": self._next(scheduled).isoformat()},
        )
        try:
            self.invoker.invoke(self.spec, request, f"schedule='{self.expression}' past_due={past_due}")
        except Exception:
            log.exception("timer function %s failed", self.spec.name)
