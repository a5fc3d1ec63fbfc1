"""App-only Dynamics: the customer's own app registration (client id + secret) with an application user
in the environment, for organisations that do not want the connector to act as a person. The credentials
are verified with a client-credentials token and WhoAmI before anything is stored."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests

from shared.config import Settings
from shared.connections.connections import get_for_account, update_for_account
from shared.connections.dynamics_connect import BUSY, moved_to
from shared.connections.results import Connected, ConnectFailed
from shared.connections.sync_form import ValidationFailed
from shared.dataverse.client import DataverseClient
from shared.dataverse.client_errors import APPLICATION_USERS_ADMIN, NoApplicationUser
from shared.dataverse.org_url import NotDataverseUrl, checked_org_url
from shared.dataverse.privileges import RUNTIME, check_privileges
from shared.dataverse.tokens import AppOnlyTokens
from shared.errors import ConnectorError, NotFoundError, ReconnectRequired, RetriableError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection

APP_REFUSED = "Microsoft refused this client id and secret for this tenant — check them and try again."
NO_ENVIRONMENT_THERE = "No Dynamics environment answers at this address — check the URL."
BAD_TENANT = "Enter the directory (tenant) id: a GUID, or a verified domain such as contoso.onmicrosoft.com."
# The tenant goes into Microsoft's token URL path: a GUID or a domain name, nothing that could add a path.
_TENANT = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$"
)


def use_app_credentials(
    store: ConnectionStore,
    settings: Settings,
    session: requests.Session,
    account_id: str,
    connection_id: str,
    form: dict[str, str],
) -> Connected | ConnectFailed:
    """`form`: org_url, tenant_id, client_id, client_secret. ValidationFailed names wrong fields;
    NotFoundError for another account's connection."""
    get_for_account(store, account_id, connection_id)
    org_url, tenant_id, client_id, client_secret = _checked(form, settings.dataverse_sandbox_origin)
    tokens = AppOnlyTokens(settings, session, tenant_id, client_id=client_id, client_secret=client_secret)
    client = DataverseClient(org_url, tokens.for_org(org_url), session, settings.http_timeout_seconds)
    try:
        me = client.whoami()
        held_nothing = len(check_privileges(client)) == len(RUNTIME)
    except NoApplicationUser:
        return ConnectFailed(
            f"Dynamics has no application user for the app {client_id} in {urlsplit(org_url).netloc}. "
            "An administrator creates it in the Power Platform admin center: Environments → this "
            "environment → Settings → Users + permissions → Application users → New app user (choose the app "
            "by its client id), with a security role such as System Administrator or one holding the "
            "privileges the connector lists. Then check and connect again.",
            help_url=APPLICATION_USERS_ADMIN,
        )
    except ReconnectRequired:
        return ConnectFailed(APP_REFUSED)
    except NotFoundError:
        return ConnectFailed(NO_ENVIRONMENT_THERE)
    except RetriableError:
        return ConnectFailed(BUSY)
    except ConnectorError as error:
        return ConnectFailed(f"Dynamics refused the connection: {error}")
    if held_nothing:
        return ConnectFailed(
            f"The application user of the app {client_id} has no security role in "
            f"{urlsplit(org_url).netloc}, so Dynamics lets it read nothing. An administrator gives it one in "
            "the Power Platform admin center: Environments → this environment → Settings → Users + "
            "permissions → Application users → the app → Edit security roles.",
            help_url=APPLICATION_USERS_ADMIN,
        )
    environment_name = urlsplit(org_url).netloc  # Global Discovery needs a person: the host names it

    def connect(connection: Connection) -> None:
        dynamics = moved_to(connection.dynamics, org_url)
        dynamics.organisation_id, dynamics.environment_name = me.organization_id, environment_name
        dynamics.tenant_id, dynamics.auth_mode = tenant_id, "app"
        dynamics.app_client_id, dynamics.app_client_secret = client_id, client_secret
        connection.dynamics = dynamics

    update_for_account(store, account_id, connection_id, connect)
    return Connected(environment_name)


def _checked(form: dict[str, str], sandbox_origin: str) -> tuple[str, str, str, str]:
    values = {name: str(form.get(name, "")).strip() for name in ("org_url", "tenant_id", "client_id")}
    secret = str(form.get("client_secret", ""))
    errors = {
        name: "This is needed."
        for name, value in {**values, "client_secret": secret.strip()}.items()
        if not value
    }
    url = values["org_url"]
    try:
        url = checked_org_url(url, sandbox_origin) if url else url
    except NotDataverseUrl as refusal:
        errors["org_url"] = str(refusal)
    tenant = values["tenant_id"].lower()
    if tenant and not _TENANT.match(tenant):
        errors["tenant_id"] = BAD_TENANT
    if errors:
        raise ValidationFailed(errors)
    return url, tenant, values["client_id"], secret
