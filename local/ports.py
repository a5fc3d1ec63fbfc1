"""Small helpers for local processes: free ports, waiting for a port to answer, listen backlogs."""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout:.0f} s")


# werkzeug's development server listens with a backlog of 128 and accepts on one thread: when the process
# is busy (one GIL for every request), a burst of connections overflows it and senders see connection
# errors — and Dynamics does not retry a webhook that failed that way.
LISTEN_BACKLOG = 4096


def widen_backlog(server_socket: socket.socket) -> None:
    """Listening again on a bound, listening socket only changes its backlog."""
    server_socket.listen(LISTEN_BACKLOG)
