"""Which product files run between a Dynamics user's save and the Xero number written back on the
invoice: the whole stack in this process (Azurite, both sandboxes, the local host), every thread profiled
while one invoice goes through (the webhook's HTTP thread, the invoice queue's workers). Timers that fire
meanwhile are left out. ARCHITECTURE.md names the six of them a reader follows; this counts every file
whose code runs (issue 17: "a newcomer following one webhook to its Xero invoice opens 37 files").

Last line: product_files_run=N functions=F shared=S"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.azurite import start_azurite  # noqa: E402
from shared.dataverse import schema  # noqa: E402
from tests.support.world import FAST_HOST, running_world  # noqa: E402

PRODUCT = (str(ROOT / "shared"), str(ROOT / "functions"))
ran: dict[str, set[str]] = {}  # product file → the threads its code ran on, in order of first use
recording = False


def _profile(frame: FrameType, event: str, arg: Any) -> None:
    if recording and event == "call" and frame.f_code.co_filename.startswith(PRODUCT):
        name = Path(frame.f_code.co_filename).relative_to(ROOT).as_posix()
        ran.setdefault(name, set()).add(threading.current_thread().name)


def main() -> None:
    global recording
    azurite = start_azurite(log_path=Path(tempfile.mkdtemp(prefix="webhook-files-")) / "azurite.log")
    try:
        with running_world(azurite, "files", host_json=FAST_HOST) as world:
            customer = world.new_account()
            line = [{"description": "A", "price": 10}]
            # a first invoice: the clients are built and the tokens had, as in a worker that has run a while
            warm = world.user.create_invoice("Warm-up", ("account", customer), line)
            world.user.wait_for(warm, lambda row: bool(row.get(schema.INVOICE_XERO_ID)), 60)
            threading.setprofile_all_threads(_profile)
            recording = True
            invoice = world.user.create_invoice("Traced", ("account", customer), line)
            world.user.wait_for(invoice, lambda row: bool(row.get(schema.INVOICE_XERO_ID)), 60)
            recording = False
            threading.setprofile_all_threads(None)
    finally:
        azurite.stop()
    files = [name for name, threads in ran.items() if not all("timer" in t.lower() for t in threads)]
    for name in files:
        print(name)
    functions = sum(name.startswith("functions/") for name in files)
    print(f"product_files_run={len(files)} functions={functions} shared={len(files) - functions}")


if __name__ == "__main__":
    main()
