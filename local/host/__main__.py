"""`python -m local.host [--app module:app] [--port 7071]`: serve the function app locally."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from local.host.errors import HostStartupError
from local.host.host import DEFAULT_PORT, Host


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.host", description=__doc__)
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    parser.add_argument("--root", default=".", help="the function app's folder (host.json, settings)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_HOST_PORT", DEFAULT_PORT)))
    parser.add_argument("--host-json", default=None, help="another host.json (default: the root's)")
    parser.add_argument(
        "--stop-grace", type=float, default=30.0, help="seconds in-flight invocations get to finish on stop"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    host_json = Path(args.host_json).resolve() if args.host_json else None
    host = Host(Path(args.root).resolve(), args.app, args.port, host_json=host_json)
    try:
        host.prepare()
    except HostStartupError as error:
        print(f"local host cannot start: {error}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    host.start()
    print(f"Functions host listening on {host.url}", flush=True)
    while not stopping.wait(0.2):
        pass
    print("Functions host stopping", flush=True)
    host.stop(grace_seconds=args.stop_grace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
