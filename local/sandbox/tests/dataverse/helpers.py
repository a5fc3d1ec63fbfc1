"""Test-side helpers for the Dataverse sandbox: tokens obtained over the real OAuth endpoints, a Web API
session, and a tiny webhook receiver that records what Dataverse POSTs."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from werkzeug.wrappers import Request, Response

from local.sandbox.common import ServerThread
from local.sandbox.dataverse import DataverseSandbox

CLIENT_ID, CLIENT_SECRET = "sandbox-ms-client", "sandbox-ms-secret"
REDIRECT_URI = "http://127.0.0.1:9/callback"


def session_for(sb: DataverseSandbox) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sb.ca_path)
    return session


def app_token(sb: DataverseSandbox, env: str = "contoso") -> str:
    response = session_for(sb).post(
        f"{sb.url}/contoso/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": f"{sb.env_url(env)}/.default",
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def user_token(sb: DataverseSandbox, upn: str, env: str = "contoso") -> str:
    """The authorization-code flow through the sign-in page, as a browser would drive it."""
    http = session_for(sb)
    page = http.get(
        f"{sb.url}/contoso/oauth2/v2.0/authorize",
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": f"{sb.env_url(env)}/user_impersonation offline_access",
            "state": "s1",
        },
    )
    page.raise_for_status()
    request_id = re.search(r'name="request" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    user = next(u for u in sb.identity.users() if u["upn"] == upn)
    answer = http.post(
        page.url.split("?")[0],
        data={"request": request_id, "action": "accept", "user": user["object_id"]},
        allow_redirects=False,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = http.post(
        f"{sb.url}/contoso/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": f"{sb.env_url(env)}/user_impersonation offline_access",
        },
    )
    token.raise_for_status()
    return str(token.json()["access_token"])


class WebApiClient:
    def __init__(self, sb: DataverseSandbox, token: str, env: str = "contoso") -> None:
        self.base = f"{sb.env_url(env)}/api/data/v9.2/"
        self.http = session_for(sb)
        self.http.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "OData-MaxVersion": "4.0",
                "OData-Version": "4.0",
            }
        )

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.base + path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.http.post(self.base + path, json=body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.http.patch(self.base + path, json=body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.http.delete(self.base + path, **kw)

    def create(self, entity_set: str, body: dict[str, Any]) -> str:
        response = self.post(entity_set, body)
        assert response.status_code == 204, response.text
        return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


@dataclass
class Receiver:
    """An HTTP endpoint that answers with the next scripted status (default 202) and keeps every call."""

    statuses: list[int] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ServerThread | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 202
            self.calls.append(
                {
                    "path": request.path,
                    "args": request.args.to_dict(),
                    "headers": dict(request.headers),
                    "body": request.get_data(as_text=True),
                }
            )
        return Response("", status=status)(environ, start_response)

    def start(self) -> Receiver:
        self.server = ServerThread(self).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.url}/api/dynamics-webhook"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.calls) >= count:
                    return list(self.calls)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} webhook calls, got {len(self.calls)}")


def register_webhook(api: WebApiClient, url: str, authtype: int = 4, authvalue: str = "webhook-key") -> str:
    """Create the service endpoint the way the connector's installer does; returns its id."""
    return api.create(
        "serviceendpoints",
        {
            "name": "Xero connector",
            "contract": 8,
            "authtype": authtype,
            "authvalue": authvalue,
            "url": url,
            "messageformat": 2,
            "namespaceaddress": url,
            "userclaim": 1,
        },
    )


def register_step(
    api: WebApiClient, endpoint_id: str, message: str, table: str, filtering: str | None = None
) -> str:
    """Find the message and its filter by query, then bind a post-operation asynchronous step."""
    message_id = api.get(
        "sdkmessages", params={"$select": "sdkmessageid", "$filter": f"name eq '{message}'"}
    ).json()["value"][0]["sdkmessageid"]
    filter_id = api.get(
        "sdkmessagefilters",
        params={
            "$select": "sdkmessagefilterid",
            "$filter": f"primaryobjecttypecode eq '{table}' and _sdkmessageid_value eq {message_id}",
        },
    ).json()["value"][0]["sdkmessagefilterid"]
    body: dict[str, Any] = {
        "name": f"Xero connector: {message} of {table}",
        "stage": 40,
        "mode": 1,
        "rank": 1,
        "supporteddeployment": 0,
        "asyncautodelete": False,
        "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint_id})",
        "sdkmessageid@odata.bind": f"/sdkmessages({message_id})",
        "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({filter_id})",
    }
    if filtering:
        body["filteringattributes"] = filtering
    return api.create("sdkmessageprocessingsteps", body)


def register_image(
    api: WebApiClient, step_id: str, image_type: int, attributes: str = "", alias: str = ""
) -> str:
    """An entity image on a step (0 PreImage, 1 PostImage, 2 Both), as the Plug-in Registration Tool
    writes it: Delete and Update images read the Target, Create's the Id."""
    alias = alias or ("PreImage", "PostImage", "Image")[image_type]
    return api.create(
        "sdkmessageprocessingstepimages",
        {
            "name": alias,
            "entityalias": alias,
            "imagetype": image_type,
            "messagepropertyname": "Target",
            "attributes": attributes or None,
            "sdkmessageprocessingstepid@odata.bind": f"/sdkmessageprocessingsteps({step_id})",
        },
    )


def create_publisher(api: WebApiClient, prefix: str = "dxc") -> str:
    """A publisher owning `prefix`: custom columns need one (Learn, "Create a solution publisher")."""
    return api.create(
        "publishers",
        {
            "uniquename": f"{prefix}publisher",
            "friendlyname": f"{prefix} publisher",
            "customizationprefix": prefix,
            "customizationoptionvalueprefix": 72838,
        },
    )
