"""How `make run` reads its ports from the settings, and the settings it refuses to run with."""

from __future__ import annotations

import pytest

from local.azurite import connection_string
from local.run import disagreements, host_port, storage_ports
from tests.make_run import sample_settings


def test_development_storage_means_azurites_default_ports() -> None:
    assert storage_ports("UseDevelopmentStorage=true") == (10000, 10001, 10002)


def test_a_local_connection_string_moves_azurite() -> None:
    assert storage_ports(connection_string(41000, 41001, 41002)) == (41000, 41001, 41002)


def test_real_storage_starts_no_azurite() -> None:
    real = (
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k;"
        "BlobEndpoint=https://a.blob.core.windows.net/;QueueEndpoint=https://a.queue.core.windows.net/;"
        "TableEndpoint=https://a.table.core.windows.net/"
    )
    assert storage_ports(real) is None


def test_the_host_listens_where_the_public_address_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_HOST_PORT", raising=False)
    assert host_port({"PUBLIC_BASE_URL": "http://127.0.0.1:8071"}) == 8071
    assert host_port({"PUBLIC_BASE_URL": "https://connector.example.com"}) == 7071  # a tunnel in front
    monkeypatch.setenv("LOCAL_HOST_PORT", "9000")
    assert host_port({"PUBLIC_BASE_URL": "http://127.0.0.1:8071"}) == 9000


def test_the_sample_settings_agree_with_themselves() -> None:
    assert disagreements(sample_settings(), ["sandbox Xero", "sandbox Dataverse"]) == []


def test_one_sandbox_named_at_two_addresses_is_refused_by_name() -> None:
    moved = {**sample_settings(), "DATAVERSE_DISCOVERY_URL": "https://127.0.0.1:8082"}
    [problem] = disagreements(moved, ["sandbox Xero", "sandbox Dataverse"])
    assert "DEV_DATAVERSE_SANDBOX_ORIGIN=https://127.0.0.1:7082" in problem
    assert "DATAVERSE_DISCOVERY_URL=https://127.0.0.1:8082" in problem
    assert disagreements(moved, ["sandbox Xero"]) == []  # a real Microsoft app: not the sandbox's concern


def test_a_port_another_process_answers_on_is_refused_with_the_way_out() -> None:
    import socket

    from local.run import ensure_free

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=r"sandbox Xero: port \d+ is already in use .*Other ports"):
            ensure_free("sandbox Xero", port)
    ensure_free("sandbox Xero", port)  # closed: free again
