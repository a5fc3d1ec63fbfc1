"""`make run` as a newcomer starts it (a fresh copy of the project, the sample settings, free ports moved
through the environment): every file or folder the settings name exists once it is up, and Ctrl-C stops
everything it started, cleanly, within 10 s, saying what it stops."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.make_run import MakeRun, Ports, copy_project, sample_settings, still_running

# A relative or absolute path: no scheme, no spaces, no "=" or ":" (connection strings, keys, schedules).
_PATH = re.compile(r"^\.{0,2}/?[\w.-]+(/[\w.-]+)+/?$")


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    run = MakeRun(copy_project(tmp_path_factory.mktemp("newcomer") / "connector"), Ports())
    try:
        yield run.start()
    finally:
        run.kill()


def paths_in_settings() -> dict[str, str]:
    return {name: value for name, value in sample_settings().items() if _PATH.match(value)}


def test_the_sample_settings_name_paths_at_all() -> None:
    # so that the next test cannot pass by finding nothing to check
    assert {"TLS_CA_BUNDLE", "DEV_MAILBOX_DIR"} <= set(paths_in_settings())


def test_every_path_in_the_sample_settings_exists_once_make_run_is_up(make_run: MakeRun) -> None:
    missing = {
        name: value for name, value in paths_in_settings().items() if not (make_run.root / value).exists()
    }
    assert not missing, f"settings name files `make run` did not create: {missing}\n{make_run.output()}"


def test_the_host_trusts_the_sandbox_ca_it_is_told_to(make_run: MakeRun) -> None:
    import requests

    bundle = make_run.root / sample_settings()["TLS_CA_BUNDLE"]
    session = requests.Session()
    session.trust_env = False  # the machine's REQUESTS_CA_BUNDLE would override verify=
    answer = session.get(f"{make_run.dataverse_url}/organizations/v2.0/.well-known/openid-configuration",
                         verify=str(bundle), timeout=10)  # fmt: skip
    assert answer.status_code == 200


def test_ctrl_c_stops_everything_cleanly_within_10_seconds_and_says_what(make_run: MakeRun) -> None:
    pids = set(make_run.pids)
    assert len(pids) >= 6, make_run.output()  # launcher, Azurite, two sandboxes, the sink, the host
    seconds = make_run.interrupt()
    output = make_run.output()
    assert seconds < 10, output
    assert not still_running(pids), f"left running: {still_running(pids)}\n{output}"
    for name in ("functions host", "sandbox Xero", "sandbox Dataverse", "SMTP sink", "Azurite"):
        assert re.search(rf"stopping .*{name} \(pid \d+\)", output), output
    assert "killed" not in output, output  # each stopped on its own; none had to be killed
    assert "Stopped everything" in output
    assert re.search(r"Functions host stopping", _log(make_run.root, "host.log"))
    for port in make_run.ports.all():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"


def _log(root: Path, name: str) -> str:
    return (root / ".local" / name).read_text(errors="replace")
