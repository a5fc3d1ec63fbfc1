"""A Dynamics user acting on the sandbox Dataverse through its Web API: creates, changes, cancels and
reads invoices as a person would in Dynamics, so the webhooks fire as they do there (tests, benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from local.sandbox.dataverse import DataverseSandbox

CLIENT, SECRET = "sandbox-ms-client", "sandbox-ms-secret"


class DynamicsUser:
    def __init__(self, sandbox: DataverseSandbox, env: str = "contoso") -> None:
        self.base = f"{sandbox.env_url(env)}/api/data/v9.2/"
        environment = next(e for e in sandbox.identity.environments if e.url_name == env)
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = str(sandbox.ca_path)
        token = self.session.post(
            f"{sandbox.url}/{environment.tenant_id}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET,
                  "scope": f"{sandbox.env_url(env)}/.default"},
            timeout=10,
        ).json()["access_token"]  # fmt: skip
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    # -- reading ----------------------------------------------------------------------------------------
    def get(self, path: str) -> dict[str, Any]:
        response = self.session.get(self.base + path, timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def first_id(self, entity_set: str, filter_: str) -> str:
        key = {"transactioncurrencies": "transactioncurrencyid"}.get(entity_set, entity_set[:-1] + "id")
        rows = self.get(f"{entity_set}?$select={key}&$filter={filter_}")["value"]
        return str(rows[0][key])

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return self.get(f"invoices({invoice_id})")

    def lines(self, invoice_id: str) -> list[dict[str, Any]]:
        """The invoice's lines in their order (invoicedetailid, lineitemnumber, quantity...)."""
        found = self.get(f"invoicedetails?$filter=_invoiceid_value eq {invoice_id}")["value"]
        return sorted(found, key=lambda line: line.get("lineitemnumber") or 0)

    def wait_for(
        self, invoice_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            row = self.invoice(invoice_id)
            if done(row):
                return row
            if time.monotonic() > deadline:
                raise AssertionError(f"invoice {invoice_id} did not reach the expected state: {row}")
            time.sleep(0.1)

    # -- writing ----------------------------------------------------------------------------------------
    def create_invoice(
        self,
        name: str,
        customer: tuple[str, str],  # ("account" | "contact", id)
        lines: list[dict[str, Any]],
        currency: str = "USD",
        **columns: Any,
    ) -> str:
        """lines: {"product": id} or {"description": "write-in"}, with quantity, price, discount, tax."""
        table, customer_id = customer
        currency_id = self.first_id("transactioncurrencies", f"isocurrencycode eq '{currency}'")
        body: dict[str, Any] = {
            "name": name,
            f"customerid_{table}@odata.bind": f"/{table}s({customer_id})",
            "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency_id})",
            "invoice_details": [_line(line, number) for number, line in enumerate(lines, start=1)],
            **columns,
        }
        response = self.session.post(self.base + "invoices", json=body, timeout=10)
        response.raise_for_status()
        return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")

    def update(self, entity_set: str, row_id: str, values: dict[str, Any]) -> None:
        response = self.session.patch(f"{self.base}{entity_set}({row_id})", json=values, timeout=10)
        response.raise_for_status()

    def delete(self, entity_set: str, row_id: str) -> None:
        response = self.session.delete(f"{self.base}{entity_set}({row_id})", timeout=10)
        response.raise_for_status()

    def cancel_invoice(self, invoice_id: str) -> None:
        self.update("invoices", invoice_id, {"statecode": 3, "statuscode": 100003})


def _line(line: dict[str, Any], number: int) -> dict[str, Any]:
    body: dict[str, Any] = {"quantity": line.get("quantity", 1), "lineitemnumber": number}
    if line.get("product"):
        body["productid@odata.bind"] = f"/products({line['product']})"
        body["priceperunit"] = line.get("price", 10.0)
        body["ispriceoverridden"] = "price" in line
    else:
        body.update({"isproductoverridden": True, "productdescription": line["description"]})
        body["priceperunit"] = line.get("price", 10.0)
    if line.get("discount"):
        body["manualdiscountamount"] = line["discount"]
    if line.get("tax"):
        body["tax"] = line["tax"]
    return body
