"""Fixtures for the sandbox Xero tests: the specs (loaded once), a fresh sandbox per test, and a small
client that holds a token and checks every documented answer against Xero's OpenAPI spec."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from local.sandbox.xero import XeroSandbox
from tests import reference_material
from tests.reference_material import XERO_SPECS

XERO_API = "https://api.xero.com"
NZ, AU, UK = "Demo Company (NZ)", "Demo Company (AU)", "Demo Company (UK)"


def _load(path: Path) -> OpenAPI:
    # The spec breaks a few strict OpenAPI rules (FACTS.md): validate requests/responses, not the spec.
    return OpenAPI.from_file_path(str(path), config=Config(spec_validator_cls=None))


@pytest.fixture(scope="session")
def accounting_spec(xero_spec_dir: Path) -> OpenAPI:
    return _load(xero_spec_dir / "xero_accounting.yaml")


@pytest.fixture(scope="session")
def identity_spec(xero_spec_dir: Path) -> OpenAPI:
    return _load(xero_spec_dir / "xero-identity.yaml")


@pytest.fixture(scope="session")
def answer_spec() -> OpenAPI | None:
    """The spec every answer of the `xero` client is checked against, or None in a clone without it: the
    sandbox's behaviour the tests assert stands on its own, and the run's summary line says the answers went
    unchecked (test_spec_contract.py, which is about the spec itself, is skipped instead)."""
    if not reference_material.present(XERO_SPECS) and not reference_material.required():
        return None
    return _load(reference_material.require(XERO_SPECS) / "xero_accounting.yaml")


@pytest.fixture
def sandbox(xero_sandbox: XeroSandbox) -> XeroSandbox:
    """These tests' name for local/sandbox/fixtures.py's xero_sandbox (one server, fresh demo state)."""
    return xero_sandbox


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or CA bundles from the environment for 127.0.0.1
    return session


class XeroClient:
    """Talks to the sandbox like the connector would; validates answers the spec documents."""

    def __init__(
        self, sandbox: XeroSandbox, spec: OpenAPI | None, tenant: str, token: dict[str, Any]
    ) -> None:
        self.sandbox = sandbox
        self.spec = spec
        self.tenant_id = sandbox.state.org(tenant).tenant_id
        self.token = token
        self.session = http()

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token['access_token']}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
        } | (extra or {})

    def call(
        self,
        method: str,
        resource: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
        validate_request: bool = True,
        raw: str | None = None,
    ) -> requests.Response:
        url = f"{self.sandbox.url}/api.xro/2.0/{resource}"
        kwargs: dict[str, Any] = {"params": params, "headers": self.headers(headers), "timeout": timeout}
        if raw is not None:
            kwargs["data"] = raw
            kwargs["headers"]["Content-Type"] = "application/json"
        elif body is not None:
            kwargs["json"] = body
        response = self.session.request(method, url, **kwargs)
        if response.status_code == 200 or (response.status_code == 400 and method != "GET"):
            self.check(response, validate_request and method in ("PUT", "POST") and raw is None)
        return response

    def check(self, response: requests.Response, with_request: bool = False) -> None:
        if self.spec is None:
            return
        prepared = response.request.copy()
        prepared.url = str(prepared.url).replace(self.sandbox.url, XERO_API)
        request = RequestsOpenAPIRequest(prepared)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Unsupported scheme type": OAuth2 is not checked here
            self.spec.validate_response(request, RequestsOpenAPIResponse(response))
            if with_request:
                self.spec.validate_request(request)

    def get(self, resource: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", resource, **kwargs)

    def put(self, resource: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("PUT", resource, body, **kwargs)

    def post(self, resource: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("POST", resource, body, **kwargs)


@pytest.fixture
def xero(sandbox: XeroSandbox, answer_spec: OpenAPI | None, request: pytest.FixtureRequest) -> XeroClient:
    """A client connected to all demo orgs, talking to the NZ one, with the connector's scopes."""
    if answer_spec is None:
        reference_material.UNCHECKED_AGAINST_XERO_SPEC.append(request.node.nodeid)
    return XeroClient(sandbox, answer_spec, NZ, sandbox.state.issue_tokens())


def invoice(contact: str = "Ridgeway University", status: str = "DRAFT", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"Name": contact},
        "Date": "2025-03-01",
        "DueDate": "2025-03-31",
        "Status": status,
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "Consulting",
                "Quantity": 2,
                "UnitAmount": 100,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
    }
    return body | extra


def created(response: requests.Response, collection: str = "Invoices") -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()[collection][0]


def messages(response: requests.Response) -> list[str]:
    body = response.json()
    elements = body.get("Elements") or body.get("Invoices") or body.get("Contacts") or body.get("Items") or []
    return [e["Message"] for element in elements for e in element.get("ValidationErrors", [])]
