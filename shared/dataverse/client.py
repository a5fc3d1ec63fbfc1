"""The Dataverse Web API for one environment: reads, conditional writes, upserts, $batch, WhoAmI.

The version is per connection: 9.2 online; Dynamics 365 Customer Engagement (on-premises) serves 9.0 or 9.1
only (the release it runs: Learn, "Dynamics 365 Customer Engagement Web API Versions"), which the on-premises
connect reads from the server (shared/dataverse/onprem_server.py). Learn lists no operation the connector
uses as added after 9.0; an operation a server lacks anyway is reported as such (`ServerLacksOperation`).

Every failure becomes a shared.errors exception (client_errors.py). A 401 gets exactly one retry with a
freshly refreshed token: a token can die before the expiry it announced (revoked sessions, a shortened
lifetime), and only Dataverse's 401 tells. Tokens never appear in exceptions or log lines.

The token goes to the environment's own origin only: redirects are never followed (requests would replay
a 307/308 body elsewhere), an absolute `@odata.nextLink` must have the environment's scheme, host and API
path, and what one answer or one collection read may cost is capped (bytes, read as a stream; pages;
rows), so a hostile or broken server cannot hold a worker or its memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from shared.dataverse.batch import BatchRequest, BatchResponse, build_batch, parse_batch
from shared.dataverse.client_errors import UnknownSegment, raise_for_answer, raise_for_status
from shared.dataverse.tokens import TokenProvider
from shared.errors import FatalError, NotFoundError, RetriableError

API_VERSION = "9.2"
API_PATH = f"/api/data/v{API_VERSION}/"
_ANY_API_PATH = re.compile(r"/api/data/v9\.[0-9]/")
# Web API functions and actions are PascalCase (WhoAmI, RetrieveUserPrivileges); entity sets are lower case.
_OPERATION = re.compile(r"(?:^|/)(?:Microsoft\.Dynamics\.CRM\.)?([A-Z][A-Za-z]+)(?:\([^/]*\))?$")
# Caps. An invoice with its lines, or a page of Dataverse's default 5,000 rows, is far below them; the
# largest legitimate answers are metadata reads during install (a few MB).
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
MAX_PAGES = 200
MAX_ROWS = 100_000
_CHUNK = 64 * 1024
CRM = "Microsoft.Dynamics.CRM"
_LAST_KEY = re.compile(r"\(([^()]*)\)/?$")
_BASE_HEADERS = {
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "Accept": "application/json",
    "Prefer": 'odata.include-annotations="*"',
}


@dataclass(frozen=True)
class WhoAmI:
    user_id: str
    business_unit_id: str
    organization_id: str


class ServerLacksOperation(NotFoundError):
    """The server answered that a Web API function or action the connector calls does not exist there."""

    def __init__(self, operation: str, api_version: str) -> None:
        super().__init__(
            f"Your Dynamics server's Web API (version {api_version}) does not offer {operation}, which the "
            "connector needs. Update Dynamics 365 Customer Engagement (on-premises) to 9.1 or later, then "
            "connect again."
        )
        self.operation, self.api_version = operation, api_version


class DataverseClient:
    def __init__(
        self,
        org_url: str,
        token_provider: TokenProvider,
        session: requests.Session,
        timeout: float = 20.0,
        api_version: str = API_VERSION,
    ) -> None:
        self.org_url = org_url.rstrip("/")
        self.api_version = api_version
        self.api_base = f"{self.org_url}/api/data/v{api_version}/"
        self._token, self._session, self._timeout = token_provider, session, timeout

    def get(self, path_and_query: str, page_size: int | None = None) -> dict[str, Any]:
        headers = {"If-None-Match": "null"}  # never a cached answer (FACTS.md)
        if page_size:
            headers["Prefer"] = f"{_BASE_HEADERS['Prefer']},odata.maxpagesize={page_size}"
        response = self._send("GET", path_and_query, headers=headers)
        self._raise_for_status(response, path_and_query, f"read {_describe(path_and_query)}")
        return dict(response.json())

    def get_all(self, path_and_query: str, page_size: int | None = None) -> list[dict[str, Any]]:
        """Every row of a collection query, following @odata.nextLink page by page."""
        rows: list[dict[str, Any]] = []
        next_url: str | None = path_and_query
        pages = 0
        while next_url:
            pages += 1
            if pages > MAX_PAGES or len(rows) > MAX_ROWS:
                raise FatalError(f"Dynamics kept sending pages of {_describe(path_and_query)}: stopped")
            page = self.get(next_url, page_size)
            rows += page.get("value", [])
            link = page.get("@odata.nextLink")
            next_url = str(link) if link else None
        return rows

    def create(self, entity_set: str, values: dict[str, Any], solution: str = "") -> str:
        """The new row's id (or a new definition's MetadataId), from the OData-EntityId header. `solution`:
        the unique name of the solution the new component joins (MSCRM.SolutionUniqueName)."""
        headers = {"MSCRM.SolutionUniqueName": solution} if solution else {}
        response = self._send("POST", entity_set, json=values, headers=headers)
        raise_for_status(response, f"create a row in {_describe(entity_set)}")
        return entity_id(response.headers.get("OData-EntityId", ""))

    def update(self, entity_set: str, row_id: str, values: dict[str, Any], etag: str | None = None) -> None:
        """PATCH one row. With an etag, a concurrent change gives ConcurrencyError; without one, `If-Match: *`
        makes sure a PATCH never creates a row that was deleted meanwhile (NotFoundError)."""
        headers = {"If-Match": etag or "*"}
        response = self._send("PATCH", f"{entity_set}({row_id})", json=values, headers=headers)
        raise_for_status(response, f"update a row in {_describe(entity_set)}")

    def patch(self, path: str, values: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """A PATCH to any path (metadata definitions need `MSCRM.MergeLabels` and no If-Match)."""
        response = self._send("PATCH", path, json=values, headers=headers or {})
        raise_for_status(response, f"change {_describe(path)}")

    def action(self, name: str, parameters: dict[str, Any]) -> None:
        """An unbound Web API action (e.g. ReactivateEntityKey) whose answer the caller does not need."""
        response = self._send("POST", name, json=parameters)
        self._raise_for_status(response, name, f"run {name}")

    def upsert_by_key(self, entity_set: str, key_values: dict[str, Any], values: dict[str, Any]) -> bool:
        """Create or update the row an alternate key names; True when it was created."""
        first_key = next(iter(key_values))
        path = f"{entity_set}({format_key(key_values)})?$select={first_key}"
        headers = {"Prefer": f"{_BASE_HEADERS['Prefer']},return=representation"}
        response = self._send("PATCH", path, json=values, headers=headers)
        raise_for_status(response, f"upsert a row in {_describe(entity_set)}")
        return response.status_code == 201

    def delete(self, entity_set: str, row_id: str) -> bool:
        """False when the row was already gone (deleting is what the caller wanted either way)."""
        response = self._send("DELETE", f"{entity_set}({row_id})")
        try:
            raise_for_status(response, f"delete a row in {_describe(entity_set)}")
        except NotFoundError:
            return False
        return True

    def batch(self, requests_: list[BatchRequest]) -> list[BatchResponse]:
        """All the writes in one atomic change set; the first failure is raised like a single request's."""
        content_type, body = build_batch(self.api_base, requests_)
        response = self._send("POST", "$batch", data=body, headers={"Content-Type": content_type})
        raise_for_status(response, "send a $batch")
        answers = parse_batch(response.headers.get("Content-Type", ""), response.text)
        for answer in answers:
            raise_for_answer(answer.status, answer.headers, answer.body, "apply a $batch change set")
        if len(answers) != len(requests_):
            raise FatalError(f"Dynamics answered {len(answers)} of {len(requests_)} $batch requests")
        return answers

    def whoami(self) -> WhoAmI:
        body = self.get("WhoAmI")
        return WhoAmI(str(body["UserId"]), str(body["BusinessUnitId"]), str(body["OrganizationId"]))

    def user_privileges(self, user_id: str) -> set[str]:
        body = self.get(f"systemusers({user_id})/{CRM}.RetrieveUserPrivileges")
        return {str(p["PrivilegeName"]) for p in body.get("RolePrivileges", [])}

    def _raise_for_status(self, response: requests.Response, path: str, doing: str) -> None:
        try:
            raise_for_status(response, doing)
        except UnknownSegment as unknown:
            operation = _OPERATION.search(path.split("?", 1)[0])
            if operation and unknown.segment.rsplit(".", 1)[-1].split("(", 1)[0] == operation.group(1):
                raise ServerLacksOperation(operation.group(1), self.api_version) from None
            raise

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self._own(path) if "://" in path else f"{self.api_base}{path}"
        headers = {**_BASE_HEADERS, **kwargs.pop("headers", {})}
        response = self._attempt(method, url, headers, self._token(), kwargs)
        if response.status_code == 401:  # the token died early: one retry with a refreshed one
            response = self._attempt(method, url, headers, self._token(force_refresh=True), kwargs)
        return response

    def _attempt(
        self, method: str, url: str, headers: dict[str, str], token: str, kwargs: dict[str, Any]
    ) -> requests.Response:
        try:
            response = self._session.request(
                method,
                url,
                headers={**headers, "Authorization": f"Bearer {token}"},
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
                **kwargs,
            )
            with response:
                if 300 <= response.status_code < 400:
                    raise FatalError(
                        f"Dynamics answered {method} {_describe(url)} with a redirect "
                        f"(HTTP {response.status_code}), which the connector does not follow"
                    )
                response._content = _capped_body(response, f"{method} {_describe(url)}")
            return response
        except (requests.Timeout, requests.ConnectionError) as error:
            raise RetriableError(
                f"Dynamics did not answer {method} {_describe(url)}: {type(error).__name__}"
            ) from None

    def _own(self, url: str) -> str:
        """An absolute URL Dynamics handed us (a next-page link): only on the environment's own origin
        and API path, or the token would go wherever the answer said."""
        mine, theirs = urlsplit(self.api_base), urlsplit(url)
        same_origin = (theirs.scheme, theirs.netloc.lower()) == (mine.scheme, mine.netloc.lower())
        if not same_origin or "@" in theirs.netloc or not theirs.path.startswith(mine.path):
            raise FatalError("Dynamics sent a link to another address: the connector does not follow it")
        return url


def _capped_body(response: requests.Response, doing: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise FatalError(f"Dynamics's answer to {doing} is larger than the connector reads")
    body = bytearray()
    for chunk in response.iter_content(_CHUNK):
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise FatalError(f"Dynamics's answer to {doing} is larger than the connector reads")
    return bytes(body)


def format_key(key_values: dict[str, Any]) -> str:
    """`name='value',other=1` for an alternate-key URL; quotes inside strings are doubled (OData)."""

    def literal(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return "'" + quote(str(value).replace("'", "''"), safe="") + "'"

    return ",".join(f"{name}={literal(value)}" for name, value in key_values.items())


def entity_id(entity_url: str) -> str:
    match = _LAST_KEY.search(entity_url)
    if not match:
        raise FatalError("Dynamics did not say which row it created (no OData-EntityId)")
    return match.group(1)


def _describe(path: str) -> str:
    """The table or definition a path is about, without ids or query values that might be sensitive."""
    path = _ANY_API_PATH.split(path, 1)[-1].split("?", 1)[0]
    return re.sub(r"\([^)]*\)", "", path) or "the service document"
