"""python -m local.sandbox.xero --port P [--time-scale S] [--seed established|demo|realistic|none]
[--state-dir DIR]"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from local.sandbox.xero.server import XeroSandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.sandbox.xero", description="Sandbox Xero")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--time-scale", type=float, default=1.0)
    # established: the demo organisations, the NZ one with years of history, as a real customer's is
    parser.add_argument("--seed", choices=["established", "demo", "realistic", "none"], default="established")
    parser.add_argument("--state-dir", type=Path, default=None, help="keep the state here across restarts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    seed = None if args.seed == "none" else args.seed
    sandbox = XeroSandbox(time_scale=args.time_scale, seed=seed, state_dir=args.state_dir)
    sandbox.start(port=args.port)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logging.getLogger("local.sandbox.xero").info("sandbox Xero listening on %s", sandbox.url)
    print(f"Sandbox Xero on {sandbox.url}; its pages: {sandbox.url}/_sandbox/ui/", flush=True)
    for org in sandbox.state.orgs.values():
        print(f"  {org.name}: tenant {org.tenant_id}", flush=True)
    stopping.wait()
    print("Sandbox Xero stopping", flush=True)
    sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
