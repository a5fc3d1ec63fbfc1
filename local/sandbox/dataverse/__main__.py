"""`python -m local.sandbox.dataverse --port P [--cert-dir DIR] [--time-scale S] [--no-seed]
[--state-dir DIR]`"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from .app import DEFAULT_CERT_DIR, DataverseSandbox


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.sandbox.dataverse", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert-dir", type=Path, default=DEFAULT_CERT_DIR)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--no-seed", action="store_true", help="start without the demo data")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="keep rows and tokens here across restarts"
    )
    args = parser.parse_args()
    sandbox = DataverseSandbox(
        cert_dir=args.cert_dir, time_scale=args.time_scale, seed=not args.no_seed, state_dir=args.state_dir
    )
    sandbox.start(port=args.port)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    print(f"Dataverse sandbox on {sandbox.url}", flush=True)
    print(f"CA certificate: {sandbox.ca_path}", flush=True)
    for env in sandbox.identity.environments:
        print(f"  environment {env.friendly_name}: {sandbox.env_url(env.url_name)}", flush=True)
    print(f"  its invoice pages: {sandbox.url}/_sandbox/ui/{{environment}}/", flush=True)
    try:
        while not stopping.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("Dataverse sandbox stopping", flush=True)
        sandbox.stop()


if __name__ == "__main__":
    main()
