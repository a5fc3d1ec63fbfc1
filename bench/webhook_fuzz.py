"""Webhook fuzz: thousands of mutated Dynamics webhook calls against the RUNNING webhook — the local host
as its own process, over HTTP, with a real connection and its real key (read from the sandbox Dataverse,
where the installer registered it). Bodies: truncated JSON, wrong types, huge strings, deep nesting,
invalid UTF-8, oversize, other tables and messages, another organisation; keys: missing, wrong, another
connection's shape, unknown connections; headers and query strings with odd bytes.

The queue functions are switched off (`AzureWebJobs.<name>.Disabled`, as in Azure) so every message the
webhook enqueued stays on the queue; each one must be an invoice event for our connection naming an
invoice (or line) that a case with the right key and organisation sent, on a table and message the
connector handles.

Last line: cases=N server_errors=0 invalid_enqueued=0 (plus valid_queued: how many good cases got in)."""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from bench.realpath import RealPath  # noqa: E402

DISABLED = {"AzureWebJobs.invoice_push.Disabled": "true", "AzureWebJobs.invoice_push_poison.Disabled": "true"}
HANDLED = {"invoice": ("create", "update"), "invoicedetail": ("create", "update", "delete")}


@dataclass
class Case:
    body: bytes
    key: str | None  # None: no key at all
    headers: dict[str, Any] = field(default_factory=dict)
    method: str = "POST"
    extra_query: str = ""
    expect_ids: set[str] = field(default_factory=set)  # the ids its body carries
    kind: str = ""


class Mutator:
    def __init__(self, rng: random.Random, key: str, organisation: str) -> None:
        self.rng, self.key, self.organisation = rng, key, organisation
        connection_id, _, _ = key.partition(".")
        self.wrong_keys = [
            "", "nonsense", connection_id, f"{connection_id}.", f"{connection_id}.wrong-secret",
            f"{uuid.uuid4()}.{key.partition('.')[2]}", f"{connection_id.upper()}.{key.partition('.')[2]}x",
            key + " ", key[:-1], "x" * 600, f"{connection_id}.{'é' * 40}", "../../etc/passwd",
        ]  # fmt: skip

    def case(self) -> Case:
        """A mutated call; `expect_ids` holds every id its body carries (the oracle decides which count)."""
        self._ids: set[str] = set()
        roll = self.rng.random()
        make = next((make for limit, make in self._kinds() if roll < limit), self._valid)
        case = make()
        case.expect_ids = self._ids
        return case

    def _kinds(self) -> list[tuple[float, Callable[[], Case]]]:
        return [
            (0.10, self._valid), (0.18, self._wrong_key), (0.24, self._other_org), (0.34, self._truncated),
            (0.52, self._wrong_type), (0.58, self._huge), (0.64, self._other_entity), (0.70, self._nested),
            (0.76, self._bad_utf8), (0.80, self._oversize), (0.86, self._odd_headers),
            (0.92, self._not_an_object), (0.96, self._odd_request), (1.00, self._size_exceeded_line),
        ]  # fmt: skip

    # -- bodies -----------------------------------------------------------------------------------------
    def context(self, entity: str = "invoice", message: str = "Create") -> dict[str, Any]:
        row, invoice = str(uuid.uuid4()), str(uuid.uuid4())
        attributes = [{"key": "name", "value": "Fuzz"}, {"key": "versionnumber", "value": 1234}]
        if entity == "invoicedetail":
            reference = {"__type": "EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts",
                         "Id": invoice, "LogicalName": "invoice", "Name": None}  # fmt: skip
            attributes.append({"key": "invoiceid", "value": reference})
        self._ids |= {row, invoice}
        body = {
            "BusinessUnitId": str(uuid.uuid4()), "CorrelationId": str(uuid.uuid4()), "Depth": 1,
            "InitiatingUserId": str(uuid.uuid4()), "IsExecutingOffline": False, "MessageName": message,
            "Mode": 1, "OperationCreatedOn": "/Date(1700000000000)/", "OperationId": str(uuid.uuid4()),
            "OrganizationId": self.organisation, "OrganizationName": "unqcontoso", "OutputParameters": [],
            "PrimaryEntityId": row, "PrimaryEntityName": entity, "RequestId": str(uuid.uuid4()),
            "SecondaryEntityName": "none", "SharedVariables": [], "Stage": 40, "UserId": str(uuid.uuid4()),
            "InputParameters": [{"key": "Target", "value": {
                "Attributes": attributes, "Id": row, "LogicalName": entity, "RowVersion": "998877",
                "FormattedValues": [], "KeyAttributes": [], "RelatedEntities": []}}],
            "PreEntityImages": [], "PostEntityImages": [],
        }  # fmt: skip
        return body

    def _valid(self) -> Case:
        entity = self.rng.choice(["invoice", "invoice", "invoicedetail"])
        body = self.context(entity, self.rng.choice(["Create", "Update"]))
        return Case(_json(body), self.key, kind="valid")

    def _wrong_key(self) -> Case:
        body = self.context()
        key = self.rng.choice([*self.wrong_keys, None])
        return Case(_json(body), key, kind="wrong_key")

    def _other_org(self) -> Case:
        body = self.context()
        body["OrganizationId"] = self.rng.choice([str(uuid.uuid4()), "", None, self.organisation + "0"])
        return Case(_json(body), self.key, kind="other_org")

    def _truncated(self) -> Case:
        data = _json(self.context())
        return Case(data[: self.rng.randrange(len(data))], self.key, kind="truncated")

    def _wrong_type(self) -> Case:
        body = self.context(self.rng.choice(["invoice", "invoicedetail"]))
        target = self._pick_field(body)
        container, name = target
        container[name] = self._odd_value()
        return Case(_json(body), self.key, kind="wrong_type")

    def _pick_field(self, body: dict[str, Any]) -> tuple[Any, Any]:
        """A random place in the body: a top-level field, or one inside Target and its attributes."""
        places: list[tuple[Any, Any]] = [(body, k) for k in body]
        target = body["InputParameters"][0]["value"]
        places += [(body["InputParameters"][0], "key"), (body["InputParameters"][0], "value")]
        places += [(target, k) for k in target]
        for attribute in target["Attributes"]:
            places += [(attribute, "key"), (attribute, "value")]
        return self.rng.choice(places)

    def _odd_value(self) -> Any:
        fresh = str(uuid.uuid4())  # a well-formed id nobody sent: a legitimate event may carry it
        self._ids.add(fresh)
        return self.rng.choice([
            None, True, 0, -1, 2**70, 1.5e308, "", "x" * self.rng.randrange(1, 5000), [], {}, [None],
            {"a": 1}, [{"key": 1}], [{"key": "Target", "value": 5}], "\u0000", "\ud7ff", "/Date(abc)/",
            fresh,
            {"__type": "OptionSetValue", "Value": "x"}, {"__type": "Money", "Value": None},
            {"__type": "EntityReference", "Id": "not-a-guid"}, [[[[]]]], float("nan"),
        ])  # fmt: skip

    def _huge(self) -> Case:
        body = self.context()
        container, name = self._pick_field(body)
        container[name] = "Ω" * self.rng.randrange(10_000, 300_000)
        return Case(_json(body), self.key, kind="huge")

    def _other_entity(self) -> Case:
        entity = self.rng.choice(
            ["contact", "account", "invoicedetail", "Invoice", "INVOICEDETAIL", "salesorder"]
        )
        message = self.rng.choice(["Create", "Update", "Delete", "Assign", "SetState", "create", ""])
        body = self.context(entity, message)
        return Case(_json(body), self.key, kind="other_entity")

    def _nested(self) -> Case:
        body = self.context()
        depth = self.rng.choice([50, 500, 990, 5_000, 100_000])
        nested = "[" * depth + "]" * depth if self.rng.random() < 0.5 else '{"a":' * depth + "1" + "}" * depth
        container, name = self._pick_field(body)
        container[name] = "@@NESTED@@"
        return Case(_json(body).replace(b'"@@NESTED@@"', nested.encode()), self.key, kind="nested")

    def _bad_utf8(self) -> Case:
        data = bytearray(_json(self.context()))
        for _ in range(self.rng.randrange(1, 6)):
            data.insert(self.rng.randrange(len(data)), self.rng.choice([0xFF, 0xC3, 0xE2, 0x80, 0xED, 0xF5]))
        return Case(bytes(data), self.key, kind="bad_utf8")

    def _oversize(self) -> Case:
        body = self.context()
        body["Padding"] = "p" * self.rng.choice([1024 * 1024, 2 * 1024 * 1024])
        return Case(_json(body), self.key, kind="oversize")

    def _odd_headers(self) -> Case:
        body = self.context()
        headers = {
            "Content-Type": self.rng.choice(
                ["text/plain", "application/xml", "", "application/json; charset=latin-1"]
            ),
            "x-ms-dynamics-msg-size-exceeded": self.rng.choice(["true", "maybe", "", "TRUE", "0"]),
            "x-ms-dynamics-organization": bytes(self.rng.randrange(0x21, 0xFF) for _ in range(30)),
            "x-ms-correlation-request-id": "\u00ff" * self.rng.randrange(1, 4000),
        }
        if self.rng.random() < 0.3:  # the key in the header instead of ?code=
            return Case(_json(body), None, {**headers, "x-webhook-key": self.key}, kind="header_key")
        return Case(_json(body), self.key, headers, kind="odd_headers")

    def _not_an_object(self) -> Case:
        data = self.rng.choice(
            [b"", b"null", b"[]", b"42", b'"text"', b"{}", b"\x00" * 10, b"{" * 3, b"true"]
        )
        return Case(data, self.key, kind="not_an_object")

    def _odd_request(self) -> Case:
        body = self.context()
        method = self.rng.choice(["GET", "PUT", "DELETE", "PATCH", "POST"])
        query = self.rng.choice(["&code=second", "&code=", "&%ff=%fe", "&x=" + "y" * 5000, "&code=%00", ""])
        return Case(_json(body), self.key, method=method, extra_query=query, kind="odd_request")  # fmt: skip

    def _size_exceeded_line(self) -> Case:
        body = self.context("invoicedetail", "Update")
        body["InputParameters"], body["PostEntityImages"] = [], []
        return Case(_json(body), self.key, {"x-ms-dynamics-msg-size-exceeded": "true"},
                    kind="size_exceeded_line")  # fmt: skip


def _json(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode()


# -- running ---------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    statuses: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    allowed: set[str] = field(default_factory=set)
    valid_sent: int = 0


def send(url: str, case: Case, session: requests.Session) -> str:
    target = url if case.key is None else f"{url}?code={requests.utils.quote(case.key, safe='')}"
    if case.extra_query:
        target += ("&" if "?" in target else "?") + case.extra_query.lstrip("&")
    try:
        response = session.request(case.method, target, data=case.body, headers=case.headers, timeout=30)
    except requests.RequestException as error:
        return f"error:{type(error).__name__}"
    return str(response.status_code)


def run(path: RealPath, key: str, organisation: str, cases: int, seed: int) -> Outcome:
    url = f"http://127.0.0.1:{path.port}/api/dynamics/webhook"
    rng = random.Random(seed)
    mutator = Mutator(rng, key, organisation)
    generated = [mutator.case() for _ in range(cases)]
    outcome = Outcome()
    sessions = [requests.Session() for _ in range(4)]
    for session in sessions:
        session.trust_env = False
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda n: send(url, generated[n], sessions[n % 4]), range(cases)))
    for case, status in zip(generated, statuses, strict=True):
        outcome.statuses[f"{case.kind}:{status}"] += 1
        if status.startswith("error") or status.startswith("5"):
            outcome.server_errors += 1
        outcome.allowed |= legitimate_ids(case, key, organisation)
        outcome.valid_sent += case.kind == "valid"
    return outcome


def legitimate_ids(case: Case, key: str, organisation: str) -> set[str]:
    """The ids a case may put on the queue, judged without the product's code: a POST with our key, a
    JSON object from our organisation about a table and message the connector handles, within 1 MB."""
    presented = case.key if case.key is not None else case.headers.get("x-webhook-key")
    if case.method != "POST" or presented != key or len(case.body) > 1024 * 1024:
        return set()
    try:
        body = json.loads(case.body)
    except (ValueError, RecursionError):
        return set()
    if not isinstance(body, dict) or str(body.get("OrganizationId", "")).lower() != organisation.lower():
        return set()
    entity, message = body.get("PrimaryEntityName"), body.get("MessageName")
    if not isinstance(entity, str) or not isinstance(message, str):
        return set()
    if message.strip().lower() not in HANDLED.get(entity.strip().lower(), ()):
        return set()
    return {i for i in case.expect_ids if i in case.body.decode("utf-8", "replace")}


def drain_queue(path: RealPath) -> list[str]:
    from azure.storage.queue import QueueClient

    client = QueueClient.from_connection_string(
        path.stack.env["AzureWebJobsStorage"], path.stack.env["INVOICE_QUEUE"]
    )
    bodies: list[str] = []
    while True:
        batch = list(client.receive_messages(messages_per_page=32, max_messages=32, visibility_timeout=300))
        if not batch:
            return bodies
        bodies += [base64.b64decode(m.content).decode("utf-8", "replace") for m in batch]


def invalid(bodies: list[str], connection_id: str, allowed: set[str]) -> list[str]:
    from shared.sync.events import BadEvent, InvoiceEvent

    wrong = []
    for body in bodies:
        try:
            event = InvoiceEvent.from_json(body)
        except BadEvent:
            wrong.append(body)
            continue
        ids = {i for i in (event.invoice_id, event.line_id) if i}
        if event.connection_id != connection_id or not ids or not ids <= allowed:
            wrong.append(body)
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    path = RealPath(prefix="fuzz", host_env=DISABLED).start()
    try:
        connection = path.onboard()
        path.start_host()
        key = webhook_key(path)
        outcome = run(path, key, connection.dynamics.organisation_id, args.cases, args.seed)
        bodies = drain_queue(path)
        wrong = invalid(bodies, connection.id, outcome.allowed)
        for name, count in sorted(outcome.statuses.items()):
            print(f"  {name:32} {count}")
        for body in wrong[:5]:
            print(f"invalid message: {body[:300]}")
        print(f"valid cases sent={outcome.valid_sent} messages on the queue={len(bodies)}")
        print(f"cases={args.cases} server_errors={outcome.server_errors} invalid_enqueued={len(wrong)}")
    finally:
        path.stop()


def webhook_key(path: RealPath) -> str:
    """The key the installer gave Dynamics (write-only through the Web API: read from the sandbox)."""
    from local.sandbox.dataverse.webhook_steps import authenticated

    env = path.stack.dataverse.state.get("contoso")
    assert env is not None
    endpoint = next(e for e in env.all_rows("serviceendpoint") if e.get("contract") == 8)
    url, _ = authenticated(endpoint)
    return parse_qs(urlsplit(url).query)["code"][0]


if __name__ == "__main__":
    main()
