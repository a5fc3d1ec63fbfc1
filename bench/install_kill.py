"""Install into Dynamics killed half-way, on the real path: the portal's start (a run recorded, one message
queued), the local Functions host in its own process taking the message from Azurite, the sandbox
Dataverse with 50 ms added to every call and new alternate keys Pending for KEY_SECONDS. In each round a
fresh environment gets a connection that is not installed; once the run has finished `k` steps (k = 1, 4,
7, ... one per round) the host is SIGKILLed — in-flight calls die half-way, the message is not deleted,
the run's lease is left held — and a new host is started. The run must end "done" with every component
(webhook, steps, images, solution memberships, publisher, solution) exactly once.

Last line: rounds=R done=D duplicate_components=N resume_s_p50=S resume_s_max=M
(resume_s: from the kill to the run's end, mostly the dead worker's leases running out: the message's
on the queue, then the run's.) Goals: D = R, N = 0."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realpath import RealPath, wait_until  # noqa: E402

LATENCY_MS = 50
KEY_SECONDS = 3.0
# A message whose worker died comes back after the host's lease (Azure: the invisibility of a message in
# flight); 30 s instead of the local host's default (functionTimeout) keeps a round short. The run's own
# lease (install_job.LEASE, 2 minutes) then decides when the redelivered message may resume it.
HOST_ENV = {"INSTALL_KEY_WAIT_SECONDS": "1", "LOCAL_HOST_QUEUE_LEASE_SECONDS": "30"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    path = RealPath(prefix="kill").start()
    done, duplicates, resumes = 0, 0, []
    try:
        path.start_host(**HOST_ENV)
        for round_number in range(args.rounds):
            ok, extra, resumed = one_round(
                path, kill_after=1 + 3 * round_number, account=f"kill-{round_number}"
            )
            done += ok
            duplicates += extra
            resumes.append(resumed)
            print(f"round {round_number + 1}: done={ok} duplicates={extra} resumed in {resumed:.1f} s")
    finally:
        path.stop()
    print(
        f"rounds={args.rounds} done={done} duplicate_components={duplicates} "
        f"resume_s_p50={statistics.median(resumes):.1f} resume_s_max={max(resumes):.1f}"
    )


def one_round(path: RealPath, kill_after: int, account: str) -> tuple[int, int, float]:
    from shared.connections.install_job import start_install
    from shared.store.models import utc_now

    sandbox = path.stack.dataverse
    sandbox.reset()  # a fresh environment: nothing of the connector in it
    path.dataverse("PUT", "faults", {"latency_ms": LATENCY_MS})
    sandbox.limits.update({"key_build_seconds": KEY_SECONDS})
    app = path.stack.app
    store, queue = app.connections(), app.install_queue()
    connection = path.onboard(account_id=account, install=False)

    def send(body: str, delay: int) -> object:
        return queue.send_message(body, visibility_timeout=delay or None)

    start_install(store, account, connection.id, send, utc_now)
    wait_until(lambda: store.require(connection.id).install.steps_done >= kill_after, 120, poll=0.05)
    path.kill_host()
    killed_at = time.monotonic()
    path.start_host(**HOST_ENV)
    finished = wait_until(lambda: store.require(connection.id).install.state in ("done", "failed"), 600)
    resumed = time.monotonic() - killed_at
    run = store.require(connection.id).install
    ok = int(finished and run.state == "done" and run.steps_done == run.steps_total)
    if not ok:
        print(f"  run ended {run.state}: {run.error or run.step}")
    return ok, duplicate_components(path, connection.id), resumed


def duplicate_components(path: RealPath, connection_id: str) -> int:
    """Components beyond one each: webhook, steps per (message, filter), images per step and alias,
    solution memberships, the publisher of the prefix and the solution."""
    from shared.dataverse import install_plan as plan

    rows = path.stack.dataverse.state.rows
    endpoints = [
        e for e in rows("contoso", "serviceendpoints") if e["name"] == plan.endpoint_name(connection_id)
    ]
    endpoint_ids = {str(e["serviceendpointid"]) for e in endpoints}
    steps = [s for s in rows("contoso", "sdkmessageprocessingsteps") if _points_to(s, endpoint_ids)]
    step_ids = {str(s["sdkmessageprocessingstepid"]) for s in steps}
    images = [i for i in rows("contoso", "sdkmessageprocessingstepimages") if _points_to(i, step_ids)]
    keys: Counter[Any] = Counter()
    keys.update(("step", repr(s.get("sdkmessageid")), repr(s.get("sdkmessagefilterid"))) for s in steps)
    keys.update(("image", repr(i.get("sdkmessageprocessingstepid")), i.get("entityalias")) for i in images)
    keys.update(
        ("member", c.get("objectid"), repr(c.get("solutionid")))
        for c in rows("contoso", "solutioncomponents")
    )
    publishers = [p for p in rows("contoso", "publishers") if p.get("customizationprefix") == "dxc"]
    solutions = [s for s in rows("contoso", "solutions") if s.get("uniquename") == plan.SOLUTION]
    extra = sum(n - 1 for n in keys.values() if n > 1)
    return extra + max(len(endpoints) - 1, 0) + max(len(publishers) - 1, 0) + max(len(solutions) - 1, 0)


def _points_to(row: dict[str, Any], ids: set[str]) -> bool:
    return any(i in str(row) for i in ids)


if __name__ == "__main__":
    main()
