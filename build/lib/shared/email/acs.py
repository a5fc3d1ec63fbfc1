"""Send through Azure Communication Services Email, REST API `POST {endpoint}/emails:send`.

Requests are signed with the resource's access key (HMAC-SHA256 over the verb, path and query, date, host
and content hash), as ACS's "Sign an HTTP request" describes; no SDK is needed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import urlsplit

from shared.email.message import EmailError, EmailMessage

API_VERSION = "2023-03-31"
SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"


def sign_request(
    method: str, url: str, body: bytes, access_key: str, date: str | None = None
) -> dict[str, str]:
    """The headers that authenticate one request with an ACS access key."""
    parts = urlsplit(url)
    path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
    date = date or formatdate(usegmt=True)
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    to_sign = f"{method.upper()}\n{path_and_query}\n{date};{parts.netloc};{content_hash}"
    key = base64.b64decode(access_key)
    signature = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha256).digest()).decode()
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={signature}",
    }


@dataclass(frozen=True)
class AcsSender:
    endpoint: str  # https://<resource>.communication.azure.com
    access_key: str = field(repr=False)
    sender: str = ""  # a verified sender address of the resource's e-mail domain
    timeout: float = 20.0

    def send(self, message: EmailMessage) -> None:
        import requests

        url = f"{self.endpoint.rstrip('/')}/emails:send?api-version={API_VERSION}"
        body = json.dumps(
            {
                "senderAddress": self.sender,
                "recipients": {"to": [{"address": message.to}]},
                "content": {"subject": message.subject, "plainText": message.text, "html": message.html},
            }
        ).encode()
        headers = {"Content-Type": "application/json", **sign_request("POST", url, body, self.access_key)}
        try:
            answer = requests.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise EmailError(f"ACS {urlsplit(url).netloc}: {type(error).__name__}") from None
        if answer.status_code != 202:
            raise EmailError(f"ACS {urlsplit(url).netloc} answered {answer.status_code}")
