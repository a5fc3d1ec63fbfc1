"""A sandbox's state kept in one file across restarts, as Azurite keeps its data under `.local/`: a
restarted `make run` still knows the tokens it issued, so a connection made yesterday stays green.

The file is written shortly after each change (changes arriving together are written once) and on stop,
atomically (a new file renamed over the old one: a crash leaves the previous whole state). It is a pickle:
only this user's sandbox writes it, under the project's `.local/`, and only that sandbox reads it. A
file from a sandbox whose persisted classes have since changed shape (a `git pull`) is set aside and the
sandbox starts fresh, saying so, rather than running on half-understood state."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle  # noqa: S403 - a file this sandbox wrote itself, see above
import tempfile
import threading
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)
SAVE_DELAY_SECONDS = 0.2  # changes closer together than this are written once


def shape_of(*classes: type, platform: tuple[ModuleType, ...] = ()) -> str:
    """A fingerprint of the persisted classes' fields — it changes when one of them gains or loses one —
    and of the `platform` modules' source: what the service itself defines (built-in tables, system
    rows), which saved state must not pin to an older version after a `git pull`."""
    described = [
        (c.__module__, c.__qualname__, [f.name for f in fields(c)] if is_dataclass(c) else [])
        for c in classes
    ]
    digest = hashlib.sha256(repr(described).encode())
    for module in platform:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


class StateFile:
    """`load()` once at start; `changed()` after every change; `close()` on stop (writes what is pending).

    `snapshot` returns the state pickled (`dump(value)`), taken under the sandbox's own locks so the file
    never holds half a change."""

    def __init__(self, path: Path, shape: str, snapshot: Callable[[], bytes]) -> None:
        self.path = path
        self.shape = shape
        self._snapshot = snapshot
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"persist-{path.name}", daemon=True)
        self._thread.start()

    def load(self) -> Any | None:
        """The saved state, or None (no file, or one this version cannot read: set aside as *.stale)."""
        try:
            saved = pickle.loads(self.path.read_bytes())  # noqa: S301 - see the module's note
            if isinstance(saved, dict) and saved.get("shape") == self.shape:
                log.info("restored the sandbox's state from %s", self.path)
                return pickle.loads(saved["state"])  # noqa: S301
            reason = "it was saved by a sandbox whose records had another shape"
        except FileNotFoundError:
            return None
        except Exception as error:  # unreadable, truncated by hand, classes gone: start fresh
            reason = f"it cannot be read ({type(error).__name__}: {error})"
        stale = self.path.with_suffix(".stale")
        os.replace(self.path, stale)
        log.warning("starting with fresh state: %s; the old file is %s", reason, stale)
        print(f"Starting with fresh state: {reason} (kept as {stale})", flush=True)
        return None

    def changed(self) -> None:
        self._dirty.set()

    def save(self) -> None:
        with self._write_lock:
            data = pickle.dumps({"shape": self.shape, "state": self._snapshot()})
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise

    def close(self) -> None:
        self._closed.set()
        self._dirty.set()
        self._thread.join(timeout=5)
        self.save()

    def _run(self) -> None:
        while True:
            self._dirty.wait()
            if self._closed.is_set():
                return
            self._closed.wait(SAVE_DELAY_SECONDS)
            self._dirty.clear()
            try:
                self.save()
            except Exception:
                log.exception("could not save the sandbox's state to %s", self.path)


def dump(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def persisting(app: Callable[..., Any], state_file: StateFile) -> Callable[..., Any]:
    """Wraps a WSGI app: after any request that may change state (all but GET, HEAD, OPTIONS), a save."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return app(environ, start_response)
        finally:
            if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD", "OPTIONS"):
                state_file.changed()

    return wsgi
