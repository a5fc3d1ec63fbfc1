"""One WSGI app for the whole sandbox Dataverse, and `DataverseSandbox` to run it in-process over HTTPS.

Routing order: /_sandbox/ (UI and control API), then /env/{name}/api/data/v9.2/…, the on-premises
server (its AD FS at /adfs/…, its organisation at /fabrikam/…: onprem.py), then the identity stand-in
(Entra ID endpoints and Global Discovery); anything else is Dataverse's 404. No request ever answers with
a traceback."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from werkzeug.wrappers import Request, Response

from local.sandbox.common import FaultSettings, RequestCounter, ServerThread
from local.sandbox.persist import StateFile, persisting

from . import demo, errors, onprem, persistence
from .adfs import AdfsService
from .adfs_grants import AdfsClient, AdfsGrants
from .control import ControlApi
from .identity import IdentityService
from .identity_directory import stable_id
from .limits import Limits, Throttle
from .store import EnvironmentState, SandboxState
from .system_rows import install_system_rows
from .tls import make_certificate
from .ui import UiPages
from .webapi import WebApi, error_response, path_template
from .webhooks import WebhookDispatcher

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CERT_DIR = PROJECT_ROOT / ".local" / "sandbox-certs"
_API_PATH = re.compile(r"^/env/(?P<env>[^/]+)/api/data/v9\.[0-9]/?(?P<rest>.*)$")


class DataverseSandbox:
    def __init__(
        self,
        cert_dir: Path | None = None,
        *,
        time_scale: float = 1.0,
        seed: bool = True,
        state_dir: Path | None = None,
    ) -> None:
        """With `state_dir` (as in `make run`), rows, definitions and tokens are kept there and restored on
        the next start; the demo data only fills a sandbox that has nothing saved."""
        self.cert_dir = Path(cert_dir) if cert_dir else DEFAULT_CERT_DIR
        self.url = ""
        self.ca_path: Path | None = None
        self.seed_on_reset = seed
        self.limits = Limits(time_scale=time_scale)
        self.faults = FaultSettings()
        self.counter = RequestCounter()
        self.identity = IdentityService(lambda: self.url, clock=_scaled_clock(time_scale))
        self.state = SandboxState()
        self.webhooks = WebhookDispatcher(self.limits, lambda: urlparse(self.url).hostname or "127.0.0.1")
        self.throttle = Throttle(self.limits)
        self.webapi = WebApi(
            self.state,
            self.identity,
            self.webhooks,
            self.throttle,
            self.faults,
            self.counter,
            lambda: self.url,
        )
        self.control = ControlApi(
            self.state,
            self.faults,
            self.limits,
            self.counter,
            self.webhooks,
            self.reset,
            self.seed,
            self.identity.users,
            self.identity.expire_all_access_tokens,
        )
        self.adfs = AdfsService(
            lambda: self.url, lambda: self.onprem.resources(), AdfsGrants(_scaled_clock(time_scale))
        )
        self.onprem = onprem.OnPremServer(lambda: self.url, self.adfs, self.webapi)
        self.ui = UiPages(self.state, self.webhooks)
        self._server: ServerThread | None = None
        self._build_environments()
        self.state_file: StateFile | None = None
        saved = None
        if state_dir is not None:
            self.state_file = persistence.state_file(
                self.state, self.identity, self.adfs.grants, Path(state_dir)
            )
            saved = self.state_file.load()
        if saved is not None:
            persistence.restore(self.state, self.identity, self.adfs.grants, saved)
        elif seed:
            self.seed()

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> DataverseSandbox:
        certificate = make_certificate(self.cert_dir)
        self.ca_path = certificate.ca_path
        app = persisting(self.wsgi, self.state_file) if self.state_file else self.wsgi
        self._server = ServerThread(app, port=port, ssl_context=certificate.ssl_context()).start()
        self.url = self._server.url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.webhooks.reset()
        if self.state_file is not None:
            self.state_file.close()

    def env_url(self, url_name: str) -> str:
        if url_name == onprem.ORG:
            return self.onprem.org_url()
        return f"{self.url}/env/{url_name}"

    def register_adfs_client(self, client_id: str, secret: str, redirect_uris: list[str]) -> None:
        """What an AD FS administrator does in an application group: a server application with its
        redirect URIs and a generated secret, permitted to the Dynamics relying party."""
        self.adfs.grants.clients[client_id] = AdfsClient(client_id, secret, list(redirect_uris))

    def reset(self) -> None:
        """Back to a fresh start: system rows only (plus demo data when seeding is on)."""
        self.webhooks.reset()
        self.identity.reset()
        self.adfs.grants.reset()
        self.onprem.settings = onprem.OnPremSettings()
        self.counter.reset()
        self.throttle.reset()
        self.faults.update({k: v for k, v in FaultSettings().as_dict().items() if k != "seed"})
        self.limits.update({k: v for k, v in Limits().as_dict().items() if k != "time_scale"})
        self._build_environments()
        if self.seed_on_reset:
            self.seed()

    def seed(self) -> None:
        demo.seed(self.state.environments[demo.DEMO_ENVIRONMENT])
        demo.seed(self.state.environments[onprem.ORG])  # a long-used on-premises business too

    def _build_environments(self) -> None:
        self.state.environments.clear()
        for env in self.identity.environments:
            state = EnvironmentState(env.url_name, env.id, env.unique_name, env.friendly_name)
            install_system_rows(state, self.identity)
            self.state.add(state)
        fabrikam = stable_id("organization", "onprem", onprem.ORG)
        state = EnvironmentState(onprem.ORG, fabrikam, onprem.ORG, onprem.FRIENDLY_NAME)
        install_system_rows(state, _AdDirectory(self.adfs.grants))  # type: ignore[arg-type]
        self.state.add(state)

    # -- WSGI -----------------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except Exception:
            log.exception("sandbox Dataverse failed on %s %s", request.method, request.path)
            response = error_response(errors.unexpected())
        return response(environ, start_response)

    def _onprem_control(self, request: Request) -> Response:
        """POST /_sandbox/onprem {max_version, unavailable, lacking}; POST /_sandbox/adfs/clients
        {client_id, secret, redirect_uris}; GET /_sandbox/onprem for both."""
        body = request.get_json(silent=True) or {}
        try:
            if request.method == "POST" and request.path == "/_sandbox/onprem":
                self.onprem.settings.update(body)
            elif request.method == "POST" and request.path == "/_sandbox/adfs/clients":
                self.register_adfs_client(
                    str(body["client_id"]), str(body["secret"]), list(body["redirect_uris"])
                )
            elif request.method != "GET":
                raise ValueError("unknown on-premises control route")
        except (KeyError, TypeError, ValueError) as bad:
            return Response(json.dumps({"error": str(bad)}), 400, content_type="application/json")
        answer = {
            "org_url": self.onprem.org_url(),
            "adfs": self.adfs.authority,
            "settings": {**vars(self.onprem.settings)},
            "clients": sorted(self.adfs.grants.clients),
        }
        return Response(json.dumps(answer), 200, content_type="application/json")

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_sandbox/onprem") or path.startswith("/_sandbox/adfs/"):
            return self._onprem_control(request)
        if path.startswith("/_sandbox/ui/"):
            return self.ui.handle(request, path[len("/_sandbox/ui/") :])
        if path.startswith("/_sandbox/"):
            return self.control.handle(request, path[len("/_sandbox/") :])
        if self.onprem.ifd_org(request) is not None:  # https://fabrikam.contoso.test/: the IFD form
            return self._ifd(request)
        match = _API_PATH.match(path)
        if match:
            return self.webapi.handle(request, match.group("env"), match.group("rest"))
        if path.startswith("/adfs/"):
            adfs_response = self.adfs.handle(request)
            if adfs_response is not None:
                self.counter.add(request.method, path.rstrip("/"), "adfs")
                return adfs_response
        own_discovery = self.onprem.discovery(request)
        if own_discovery is not None:
            return own_discovery
        if path.startswith(f"/{onprem.ORG}/") or path == f"/{onprem.ORG}":
            self.state.environments[onprem.ORG].product_version = self.onprem.version()
            return self.onprem.handle(request, onprem.ORG, path[len(onprem.ORG) + 2 :])
        identity_response = self.identity.handle(request)
        if identity_response is not None:
            self.counter.add(request.method, path_template(path))
            return identity_response
        self.counter.add(request.method, path_template(path))
        return Response(
            json.dumps(errors.not_found_segment(path.strip("/").split("/")[0]).body()),
            status=404,
            content_type="application/json",
        )

    def _ifd(self, request: Request) -> Response:
        """The organisation's own host: its Web API and the deployment's discovery service at the root."""
        own_discovery = self.onprem.discovery(request)
        if own_discovery is not None:
            return own_discovery
        self.state.environments[onprem.ORG].product_version = self.onprem.version()
        return self.onprem.handle(
            request, onprem.ORG, request.path.lstrip("/"), org_url=self.onprem.ifd_url(onprem.ORG)
        )


class _AdDirectory:
    """The on-premises organisation's users: Active Directory accounts added to Dynamics, who sign in
    through AD FS (not Entra ID's directory). The administrator holds every role, the clerk a few."""

    def __init__(self, grants: AdfsGrants) -> None:
        self._grants = grants

    def users(self) -> list[dict[str, Any]]:
        return [
            {
                "upn": user.upn,
                "display_name": user.display_name,
                "object_id": user.object_id,
                "kind": "admin" if user.upn.startswith("admin@") else "limited",
                "systemuserids": {onprem.ORG: user.systemuserid(onprem.ORG)},
            }
            for user in self._grants.users
        ]

    def application_users(self) -> list[dict[str, Any]]:
        return []


def _scaled_clock(time_scale: float) -> Callable[[], float]:
    """Identity lifetimes run faster by `time_scale` (an hour-long token lasts a minute at 60)."""
    start = time.time()
    return lambda: start + (time.time() - start) * time_scale
