"""`python -m local.sandbox.dataverse --port P [--cert-dir DIR] [--time-scale S] [--no-seed]
[--state-dir DIR]`"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from .app import DEFAULT_CERT_DIR, DataverseSandbox

ADFS_CLIENT_ID, ADFS_CLIENT_SECRET = "sandbox-adfs-client", "sandbox-adfs-secret"  # noqa: S105 (sandbox only)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.sandbox.dataverse", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert-dir", type=Path, default=DEFAULT_CERT_DIR)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--no-seed", action="store_true", help="start without the demo data")
    parser.add_argument(
        "--history", type=int, default=0, help="older invoices in contoso, dated before today (history.py)"
    )
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="keep rows and tokens here across restarts"
    )
    parser.add_argument(
        "--adfs-redirect-uri",
        default=os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:7071").rstrip("/")
        + "/oauth/dynamics/callback",
        help="the redirect URI of the AD FS stand-in's ready-made application (sandbox-adfs-client)",
    )
    args = parser.parse_args()
    sandbox = DataverseSandbox(
        cert_dir=args.cert_dir, time_scale=args.time_scale, seed=not args.no_seed, state_dir=args.state_dir
    )
    if args.history and not args.no_seed:  # idempotent: a restart finds them and leaves them as they are
        from datetime import date

        from .history import seed_history

        seed_history(sandbox.state.environments["contoso"], args.history, date.today())
    sandbox.start(port=args.port)
    # What an AD FS administrator would have set up for the connector (README, "Dynamics 365 on-premises")
    sandbox.register_adfs_client(ADFS_CLIENT_ID, ADFS_CLIENT_SECRET, [args.adfs_redirect_uri])
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    print(f"Dataverse sandbox on {sandbox.url}", flush=True)
    print(f"CA certificate: {sandbox.ca_path}", flush=True)
    for env in sandbox.identity.environments:
        print(f"  environment {env.friendly_name}: {sandbox.env_url(env.url_name)}", flush=True)
    print(f"  its invoice pages: {sandbox.url}/_sandbox/ui/{{environment}}/", flush=True)
    print(
        f"  on-premises organisation {sandbox.onprem.org_url()} (AD FS {sandbox.adfs.authority}, "
        f"application {ADFS_CLIENT_ID} / {ADFS_CLIENT_SECRET}, "
        "user admin@fabrikam.example / Fabrikam-Sandbox-1)",
        flush=True,
    )
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
