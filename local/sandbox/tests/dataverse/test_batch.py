"""$batch: plain requests and atomic change sets with Content-ID references."""

from __future__ import annotations

import json

from local.sandbox.dataverse import DataverseSandbox

from .helpers import WebApiClient


def _part(method: str, url: str, body: dict[str, object] | None = None, content_id: str | None = None) -> str:
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    request = f"{method} {url} HTTP/1.1\r\n"
    if body is not None:
        request += "Content-Type: application/json; type=entry\r\n\r\n" + json.dumps(body)
    return head + "\r\n" + request + "\r\n"


def _batch(parts: list[str], changeset: list[str]) -> str:
    inner = "".join(f"--changeset_1\r\n{p}" for p in changeset) + "--changeset_1--\r\n"
    outer = "".join(f"--batch_1\r\n{p}" for p in parts)
    return (
        outer
        + f"--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n{inner}--batch_1--\r\n"
    )


def _post_batch(api: WebApiClient, body: str) -> str:
    response = api.http.post(
        api.base + "$batch", data=body.encode(), headers={"Content-Type": "multipart/mixed; boundary=batch_1"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("multipart/mixed; boundary=batchresponse_")
    return response.text


def test_change_set_creates_invoice_and_line_with_a_content_id_reference(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    product = sb.state.rows("contoso", "products")[0]["productid"]
    text = _post_batch(
        api,
        _batch(
            [_part("GET", f"{api.base}accounts?$select=name&$top=1")],
            [
                _part("POST", "/env/contoso/api/data/v9.2/invoices", {"name": "Batched"}, "1"),
                _part(
                    "POST",
                    "invoicedetails",
                    {
                        "invoiceid@odata.bind": "$1",
                        "quantity": 4,
                        "productid@odata.bind": f"/products({product})",
                    },
                    "2",
                ),
            ],
        ),
    )
    assert text.count("HTTP/1.1 204 No Content") == 2 and "HTTP/1.1 200 OK" in text
    invoice = next(r for r in sb.state.rows("contoso", "invoices") if r["name"] == "Batched")
    assert invoice["totalamount"] == 50.0


def test_a_failing_request_rolls_back_its_whole_change_set(sb: DataverseSandbox, api: WebApiClient) -> None:
    before = len(sb.state.rows("contoso", "invoices"))
    text = _post_batch(
        api,
        _batch(
            [],
            [
                _part("POST", "invoices", {"name": "Rolled back"}, "1"),
                _part("POST", "invoices", {"name": "Bad", "nosuchcolumn": 1}, "2"),
            ],
        ),
    )
    assert "HTTP/1.1 400 Bad Request" in text and "0x80060888" in text
    assert "204 No Content" not in text
    assert len(sb.state.rows("contoso", "invoices")) == before
