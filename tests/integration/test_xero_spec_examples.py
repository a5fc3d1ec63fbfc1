"""Xero's own example answers (xero_accounting.yaml: every success and error example of the writes the
connector makes) replayed over real HTTP through the connector's client, each with the outcome the
connector must draw: an element is refused exactly when the example lists ValidationErrors for it,
whatever flag that resource uses to say so (HasErrors, HasValidationErrors, StatusAttributeString)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from werkzeug.wrappers import Request, Response

from local.sandbox.common import ServerThread
from shared.xero.accounting import XeroAccounting, XeroValidationError

WRITES = [("/Invoices", "put"), ("/Invoices", "post"), ("/Contacts", "put"), ("/Contacts", "post")]
WRITES += [("/Items", "put"), ("/Items", "post"), ("/Invoices/{InvoiceID}", "post")]
WRITES += [("/Contacts/{ContactID}", "post"), ("/Items/{ItemID}", "post")]


class Replayer:
    """A server that answers every request with the example it was given."""

    def __init__(self) -> None:
        self.status, self.body = 200, "{}"
        self.server = ServerThread(self._app).start()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        Request(environ).get_data()
        response = Response(self.body, self.status, content_type="application/json")
        return response(environ, start_response)


@pytest.fixture(scope="module")
def spec(xero_spec_dir: Path) -> dict[str, Any]:
    with open(xero_spec_dir / "xero_accounting.yaml", encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


@pytest.fixture(scope="module")
def replayer() -> Iterator[Replayer]:
    server = Replayer()
    yield server
    server.server.stop()


def client(url: str) -> XeroAccounting:
    session = requests.Session()
    session.trust_env = False
    return XeroAccounting(session, url, lambda _rejected: ("token", "tenant"), timeout=5)


def examples(spec: dict[str, Any], status: str) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, method in WRITES:
        operation = spec["paths"][path][method]
        answer = operation["responses"].get(status, {})
        if "$ref" in answer:
            answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
        example = answer.get("content", {}).get("application/json", {}).get("example")
        if example is not None:
            found.append((f"{method.upper()} {path}", path.split("/")[1], example))
    return found


def element_examples(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every 200 example of every PUT/POST (and the one GET example that shows a refused Invoice)."""
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("put", "post") and (path, method) != ("/Invoices/{InvoiceID}", "get"):
                continue
            answer = operation["responses"].get("200", {})
            example = answer.get("content", {}).get("application/json", {}).get("example")
            for key, value in (example or {}).items():
                if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    found.append((f"{method.upper()} {path}", key, example))
    return found


def test_every_element_of_every_write_example_gets_the_outcome_its_errors_say(
    spec: dict[str, Any], replayer: Replayer
) -> None:
    xero = client(replayer.server.url)
    refused: set[str] = set()
    checked = 0
    for name, collection, example in element_examples(spec):
        replayer.status, replayer.body = 200, json.dumps(example, default=str)
        results = xero.write("PUT", collection, collection, [{}], "k")
        assert len(results) == len(example[collection]), name
        for result, element in zip(results, example[collection], strict=True):
            expected = [e["Message"] for e in element.get("ValidationErrors") or []]
            assert result.ok == (not expected), (name, element.get("ValidationErrors"))
            assert result.errors == expected
            checked += 1
            if expected:
                refused.add(collection)
    # refusals of every shape: HasErrors false + StatusAttributeString ERROR (Invoices, PurchaseOrders),
    # ValidationErrors alone (Items), HasValidationErrors (Payments), "OK" beside errors (CreditNotes)
    assert {"Invoices", "Items", "Payments", "CreditNotes", "PurchaseOrders"} <= refused and checked > 50


def test_the_error_examples_become_validation_errors_with_xeros_messages(
    spec: dict[str, Any], replayer: Replayer
) -> None:
    xero = client(replayer.server.url)
    for name, collection, example in examples(spec, "400"):
        replayer.status, replayer.body = 400, json.dumps(example, default=str)
        with pytest.raises(XeroValidationError) as raised:
            xero.write("PUT", collection, collection, [{}], "k")
        wanted = [
            e["Message"] for element in example.get("Elements", []) for e in element["ValidationErrors"]
        ]
        assert raised.value.messages == (wanted or [example["Message"]]), name
