import json
from pathlib import Path

import pytest

from local.host.errors import HostStartupError
from local.host.host_json import load_host_config, parse_timespan
from local.host.http_routes import compile_template

ROOT = Path(__file__).resolve().parents[2]


def test_project_host_json_is_read_as_the_host_reads_it() -> None:
    config = load_host_config(ROOT / "host.json")
    document = json.loads((ROOT / "host.json").read_text())["extensions"]["queues"]
    assert config.route_prefix == ""  # routes name their own /api/... (the portal's pages live at /)
    assert config.queues.max_dequeue_count == document["maxDequeueCount"]
    assert config.queues.batch_size == document["batchSize"]
    assert config.queues.visibility_timeout == parse_timespan(document["visibilityTimeout"])
    assert config.queues.message_encoding == "base64"


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:00:30", 30), ("01:02:03", 3723), ("1.00:00:00", 86400), ("00:00:00.5", 0.5)]
)
def test_timespans(text: str, seconds: float) -> None:
    assert parse_timespan(text) == seconds


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": "1.0"}, '"version" must be "2.0"'),
        (
            {"version": "2.0", "extensions": {"queues": {"batchSize": 64}}},
            "batchSize must be a whole number from 1 to 32",
        ),
        ({"version": "2.0", "extensions": {"queues": {"visibilityTimeout": "soon"}}}, "visibilityTimeout"),
        ({"version": "2.0", "extensions": {"queues": {"messageEncoding": "xml"}}}, "messageEncoding"),
        ({"version": "2.0", "extensions": {"http": []}}, "extensions.http must be an object"),
    ],
)
def test_bad_host_json_names_file_and_problem(tmp_path: Path, document: dict, message: str) -> None:
    path = tmp_path / "host.json"
    path.write_text(json.dumps(document))
    with pytest.raises(HostStartupError) as error:
        load_host_config(path)
    assert str(path) in str(error.value) and message in str(error.value)


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("api/items/{id:int}", "/api/items/7", {"id": "7"}),
        ("api/items/{id:int}", "/api/items/x", None),
        ("api/Items/{name?}", "/api/items", {}),
        ("api/files/{*rest}", "/api/files/a/b/c", {"rest": "a/b/c"}),
        (
            "api/x/{id:guid}",
            "/api/x/6f9619ff-8b86-d011-b42d-00c04fc964ff",
            {"id": "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
        ),
    ],
)
def test_route_templates(template: str, path: str, expected: dict | None) -> None:
    found = compile_template(template).fullmatch(path)
    assert (
        None if found is None else {k: v for k, v in found.groupdict().items() if v is not None}
    ) == expected


def test_setting_expressions_resolve_inside_longer_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from local.host.app_settings import resolve_setting_expression

    monkeypatch.setenv("SOME_QUEUE", "invoices")
    assert resolve_setting_expression("%SOME_QUEUE%-poison") == "invoices-poison"
    assert resolve_setting_expression("plain") == "plain"
    monkeypatch.delenv("SOME_QUEUE")
    with pytest.raises(HostStartupError, match="app setting SOME_QUEUE is not set"):
        resolve_setting_expression("%SOME_QUEUE%")


def test_the_extension_bundle_range_is_learns_recommended_form_of_the_active_major_version() -> None:
    # Learn, "Azure Functions extension bundles": host.json names Microsoft.Azure.Functions.ExtensionBundle
    # with "[4.0.0, 5.0.0)" (at least 4.0.0, below 5.0.0: every 4.x, the host picks the newest); 4.x is the
    # only bundle version listed as active (1.x to 3.x deprecated). A wildcard ("[4.*, 5.0.0)", read the
    # same) or an open range ("[4.0.0, )") would not say which versions the app was tested with.
    bundle = json.loads((ROOT / "host.json").read_text())["extensionBundle"]

    assert bundle["id"] == "Microsoft.Azure.Functions.ExtensionBundle"
    lowest, _, highest = bundle["version"].removeprefix("[").removesuffix(")").partition(", ")
    assert bundle["version"].startswith("[") and bundle["version"].endswith(")")
    assert lowest.split(".")[0] == "4" and all(part.isdigit() for part in lowest.split(".")), lowest
    assert highest == "5.0.0"
