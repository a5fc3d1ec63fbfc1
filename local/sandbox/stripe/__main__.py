"""python -m local.sandbox.stripe --port P [--webhook-url URL --webhook-secret whsec_...]"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from local.sandbox.stripe.server import SECRET_KEY, StripeSandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.sandbox.stripe", description="Stripe stand-in")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--webhook-secret", default="")
    parser.add_argument("--secret-key", default=SECRET_KEY)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sandbox = StripeSandbox(args.webhook_url, args.webhook_secret, args.secret_key).start(port=args.port)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"Stripe stand-in on {sandbox.url} (webhooks to {args.webhook_url or 'nowhere'})", flush=True)
    stopping.wait()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
