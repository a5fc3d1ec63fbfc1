"""A local SMTP server that delivers nothing: every message it receives is kept as an .eml file in a folder
(the development mailbox, shown at /dev/mailbox).

    python -m local.smtp_sink --port 7025 --dir .local/mailbox
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MailboxHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        content = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content).encode()
        # Time first, so names sort in arrival order; a random tail so two messages never collide.
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(data)
        partial.rename(self.folder / name)  # readers never see half a message
        return "250 Message accepted for delivery"


class SmtpSink:
    """The sink as an object, for tests: start() listens on 127.0.0.1:`port` (0 picks a free one)."""

    def __init__(self, folder: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.folder = folder
        self._controller = Controller(MailboxHandler(folder), hostname=host, port=port or _free_port())

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def messages(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))


def _free_port() -> int:
    from local.ports import free_port

    return free_port()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=7025)
    parser.add_argument("--dir", type=Path, default=Path(".local/mailbox"))
    args = parser.parse_args()
    sink = SmtpSink(args.dir, args.port).start()
    print(f"SMTP sink on 127.0.0.1:{sink.port}, keeping messages in {args.dir}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    sink.stop()


if __name__ == "__main__":
    main()
