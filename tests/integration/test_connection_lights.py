"""A whole onboarding against both sandboxes and a real Azurite: connect both sides, install into
Dynamics (twice), activate; what the lights say on the way; tenant isolation; sync settings; and a scan
of every stored entity for secrets and business data."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from local.sandbox.dataverse.identity_directory import Client
from shared.connections.connections import (
    NotReadyToActivate,
    activate,
    get_for_account,
    list_for_account,
    update_sync_settings,
)
from shared.connections.dynamics_access import dataverse_client_for
from shared.connections.install_service import install_for_account
from shared.connections.lights import ASK_ADMIN, INSTALL_DYNAMICS, lights
from shared.connections.results import Connected, NeedsChoice
from shared.connections.sync_form import ValidationFailed
from shared.dataverse import install_plan as plan
from shared.dataverse.install_webhook import OTHERS_SERVE
from shared.errors import NotFoundError
from shared.store.sync_settings import InvoiceStatus, Numbering, TaxMode
from shared.store.webhook_keys import connection_id_from_key
from tests.integration.connection_helpers import (
    DYNAMICS_REDIRECT,
    LIMITED,
    NZ,
    PRODUCTION,
    XERO_REDIRECT,
    World,
    connect_dynamics,
    xero_consent,
)


def _connect_xero(world: World, connection_id: str, account: str = "acct-a") -> None:
    query = xero_consent(world, world.xero.begin(account, connection_id, XERO_REDIRECT), [NZ])
    assert world.xero.complete(account, query) == Connected(NZ)


def _install(world: World, connection_id: str, account: str = "acct-a", rotate: bool = False) -> Any:
    return install_for_account(world.store, account, connection_id, world.settings, world.session, rotate)


def _registered_key(world: World) -> str:
    (endpoint,) = world.dataverse.state.rows("contoso", "serviceendpoints")
    return str(endpoint["authvalue"])


def test_onboarding_turns_both_lights_green_and_activates(world: World) -> None:
    connection = world.new_connection()
    now = world.clock()
    # GIVEN a new connection: both lights red, and it cannot start
    xero, dynamics = lights(connection, now)
    assert (xero.green, xero.action_label) == (False, "Connect to Xero")
    assert (dynamics.green, dynamics.action_label) == (False, "Connect to Dynamics")
    with pytest.raises(NotReadyToActivate) as early:
        activate(world.store, "acct-a", connection.id, world.clock)
    assert early.value.missing == ["Connect to Xero", "Connect to Dynamics"]
    # WHEN both sides are connected, Dynamics asks for the install
    _connect_xero(world, connection.id)
    connect_dynamics(world, connection.id)
    xero, dynamics = lights(world.reload(connection), now)
    assert xero.green and NZ in xero.label
    assert (dynamics.green, dynamics.action) == (False, INSTALL_DYNAMICS)
    # WHEN the admin's sign-in installs into Dynamics
    outcome = _install(world, connection.id)
    assert outcome.changes and not outcome.missing_privileges
    # THEN the webhook is registered at our URL with a key naming the connection, whose hash alone is kept
    stored = world.reload(connection)
    (endpoint,) = world.dataverse.state.rows("contoso", "serviceendpoints")
    assert endpoint["url"] == "https://connector.example/api/dynamics/webhook"
    assert connection_id_from_key(_registered_key(world)) == connection.id
    assert world.store.verify_webhook_key(stored, _registered_key(world))
    assert stored.dynamics.webhook_registered and stored.dynamics.privileges_missing == []
    # AND both lights are green and the connection can start
    xero, dynamics = lights(stored, now)
    assert xero.green and dynamics.green and PRODUCTION in dynamics.label
    assert activate(world.store, "acct-a", connection.id, world.clock).status == "active"


def test_installing_twice_changes_nothing_the_second_time(world: World) -> None:
    connection = world.new_connection()
    connect_dynamics(world, connection.id)
    assert _install(world, connection.id).changes
    key, row = _registered_key(world), world.reload(connection)
    # WHEN installed again
    again = _install(world, connection.id)
    # THEN nothing changed: in Dynamics, in the webhook key, or in our row
    assert again.changes == [] and again.missing_privileges == []
    assert _registered_key(world) == key
    assert world.reload(connection).etag == row.etag
    # AND a rotation changes the key; the old one works only for the overlap (test_webhook_key_ring.py)
    rotated = _install(world, connection.id, rotate=True)
    assert rotated.changes == ["Gave the webhook a new key"]
    new_key = _registered_key(world)
    assert new_key != key
    assert world.store.verify_webhook_key(world.reload(connection), new_key)
    assert world.reload(connection).dynamics.previous_webhook_key_until is not None


def test_a_limited_user_is_told_which_privileges_are_missing(world: World) -> None:
    # GIVEN a connection signed in to Dynamics as a user without the admin role
    connection = world.new_connection()
    _connect_xero(world, connection.id)
    connect_dynamics(world, connection.id, upn=LIMITED)
    # WHEN they install
    outcome = _install(world, connection.id)
    # THEN nothing was installed and the outcome names what is missing, in words
    names = [m.name for m in outcome.missing_privileges]
    assert outcome.changes == []
    assert {"Create Entity", "Create Service Endpoint", "Write Invoice"} <= set(names)
    assert world.dataverse.state.rows("contoso", "serviceendpoints") == []
    # AND the light says so and tells whom to ask
    stored = world.reload(connection)
    assert not stored.dynamics.webhook_registered
    _, dynamics = lights(stored, world.clock())
    assert (dynamics.green, dynamics.action) == (False, ASK_ADMIN)
    assert dynamics.action_label.startswith("Ask your Dynamics administrator for: ")
    assert "Create Service Endpoint" in dynamics.action_label and "Create Service Endpoint" in dynamics.reason
    with pytest.raises(NotReadyToActivate) as refused:
        activate(world.store, "acct-a", connection.id, world.clock)
    assert refused.value.missing == [dynamics.action_label]


def test_one_account_cannot_read_or_change_another_accounts_connection(world: World) -> None:
    # GIVEN account A's fully connected connection
    connection = world.new_connection("acct-a")
    _connect_xero(world, connection.id)
    connect_dynamics(world, connection.id)
    before = world.reload(connection)
    missing_id = "00000000-0000-4000-8000-000000000000"

    def refusal(call: Any, connection_id: str) -> str:
        with pytest.raises(NotFoundError) as refused:
            call(connection_id)
        return str(refused.value).replace(connection_id, "<id>")

    calls = {
        "get": lambda cid: get_for_account(world.store, "acct-b", cid),
        "settings": lambda cid: update_sync_settings(
            world.store, "acct-b", cid, {"time_zone": "Europe/Paris"}
        ),
        "disconnect": lambda cid: world.xero.disconnect("acct-b", cid),
        "install": lambda cid: _install(world, cid, account="acct-b"),
        "activate": lambda cid: activate(world.store, "acct-b", cid, world.clock),
        "connect dynamics": lambda cid: world.dynamics.begin("acct-b", cid, DYNAMICS_REDIRECT),
    }
    for name, call in calls.items():
        # THEN each answers exactly like for a connection that does not exist
        assert refusal(call, connection.id) == refusal(call, missing_id), name
    assert list_for_account(world.store, "acct-b") == []
    # AND nothing changed for A, in our row or in Dynamics
    assert world.reload(connection).etag == before.etag
    assert world.dataverse.state.rows("contoso", "serviceendpoints") == []


def test_sync_settings_are_validated_field_by_field_and_saved(world: World) -> None:
    connection = world.new_connection()
    with pytest.raises(ValidationFailed) as invalid:
        update_sync_settings(
            world.store,
            "acct-a",
            connection.id,
            {
                "time_zone": "Mars/Olympus_Mons",
                "invoice_status": "paid",
                "numbering": "random",
                "tax_mode": "sometimes",
                "create_missing_contacts": "perhaps",
                "default_account_code": "12345678901",
            },
        )
    assert set(invalid.value.field_errors) == {
        "time_zone",
        "invoice_status",
        "numbering",
        "tax_mode",
        "create_missing_contacts",
        "default_account_code",
    }
    assert world.reload(connection).sync == connection.sync  # nothing saved
    saved = update_sync_settings(
        world.store,
        "acct-a",
        connection.id,
        {
            "time_zone": "Pacific/Auckland",
            "invoice_status": "authorised",
            "numbering": "xero",
            "tax_mode": "no tax",
            "create_missing_contacts": "false",
            "create_missing_items": True,
            "require_send_flag": "on",
            "close_paid_invoices": "on",
            "default_account_code": " 400 ",
            "default_tax_type": "OUTPUT2",
            "branding_theme_id": "abc",
            "csrf": "x",
        },
    )
    sync = world.reload(connection).sync
    assert sync == saved.sync
    assert (sync.time_zone, sync.invoice_status, sync.numbering, sync.tax_mode) == (
        "Pacific/Auckland",
        InvoiceStatus.AUTHORISED,
        Numbering.XERO,
        TaxMode.NO_TAX,
    )
    assert (sync.create_missing_contacts, sync.create_missing_items, sync.require_send_flag) == (
        False,
        True,
        True,
    )
    assert sync.close_paid_invoices is True
    assert (sync.default_account_code, sync.default_tax_type, sync.branding_theme_id) == (
        "400",
        "OUTPUT2",
        "abc",
    )


def _secrets_in_play(world: World, connection_ids: list[str]) -> set[str]:
    """Every secret the onboarding produced, as plaintext: tokens (ours and every one the sandboxes
    issued to Xero flows), the MSAL cache's tokens, client secrets, the webhook key."""
    found = {"sandbox-xero-secret", "sandbox-ms-secret", _registered_key(world)}
    identity = world.xero_sandbox.state.identity
    found |= set(identity.access_tokens) | set(identity.refresh_tokens)
    for connection_id in connection_ids:
        connection = world.store.require(connection_id)
        found |= {
            connection.xero.access_token,
            connection.xero.refresh_token,
            connection.dynamics.app_client_secret,
        }
        cache = json.loads(connection.dynamics.msal_cache or "{}")
        for section in ("AccessToken", "RefreshToken", "IdToken"):
            found |= {str(item["secret"]) for item in cache.get(section, {}).values()}
    return {secret for secret in found if secret}


def _business_data(world: World) -> set[str]:
    """Customer, product and invoice names both sandboxes hold."""
    names = {"Fabrikam Ltd", "O'Brien", "Ridgeway University"}
    for entity_set, column in (("accounts", "name"), ("products", "name"), ("invoices", "name")):
        names |= {str(r[column]) for r in world.dataverse.state.rows("contoso", entity_set) if r.get(column)}
    return names


def test_no_secret_or_business_data_is_stored_in_plaintext(world: World, storage_connection: str) -> None:
    # GIVEN a full onboarding, an app-only connection, and a Xero choice left pending (tokens in OAuth state)
    main = world.new_connection()
    _connect_xero(world, main.id)
    connect_dynamics(world, main.id)
    _install(world, main.id)
    app_only = world.new_connection(name="App only")
    org_url = world.dataverse.env_url("contoso")
    tenant = world.dataverse.identity.directory.tenant.id
    app_secret = "app-secret-" + "x" * 20
    directory = world.dataverse.identity.directory
    directory.clients["app-client"] = Client(
        "app-client", app_secret, "App", tenant, {"contoso": str(uuid.uuid4())}
    )
    assert isinstance(
        world.use_app("acct-a", app_only.id, org_url, tenant, "app-client", app_secret),
        Connected,
    )
    pending = world.new_connection(name="Pending")
    query = xero_consent(
        world,
        world.xero.begin("acct-a", pending.id, XERO_REDIRECT),
        ["Demo Company (AU)", "Demo Company (UK)"],
    )
    assert isinstance(world.xero.complete("acct-a", query), NeedsChoice)
    client = dataverse_client_for(world.reload(main), world.store, world.settings, world.session)
    client.whoami()  # background work ran too
    secrets = _secrets_in_play(world, [main.id, app_only.id]) | {app_secret}
    business = _business_data(world)
    assert len(secrets) > 8 and len(business) > 3
    # WHEN every entity of every one of this test's tables is read raw
    service = TableServiceClient.from_connection_string(storage_connection)
    tables = [t.name for t in service.list_tables() if t.name.startswith(world.settings.table_prefix)]
    assert len(tables) == 2  # connections and OAuth state (accounts is not used by these services)
    raw = ""
    for table in tables:
        for entity in service.get_table_client(table).list_entities():
            raw += json.dumps({k: str(v) for k, v in entity.items()}) + "\n"
    assert "oauth" in "".join(tables).lower() and raw.count("connection") >= 3
    # THEN no secret and no business record appears in it
    assert [s[:6] + "…" for s in secrets if s in raw] == []
    assert [name for name in business if name in raw] == []


def test_install_proposes_the_dynamics_users_time_zone_until_the_customer_chooses_one(world: World) -> None:
    # GIVEN a new connection (its zone is UTC) and an administrator whose Dynamics settings say Auckland
    connection = world.new_connection()
    assert connection.sync.time_zone == "UTC"
    connect_dynamics(world, connection.id)
    # WHEN installed
    outcome = _install(world, connection.id)
    # THEN invoice dates follow Auckland, and the page says so
    assert world.reload(connection).sync.time_zone == "Pacific/Auckland"
    assert any("Pacific/Auckland" in change for change in outcome.changes)
    # WHEN the customer chooses UTC after all, a later install leaves that choice alone
    update_sync_settings(world.store, "acct-a", connection.id, {"time_zone": "UTC"})
    again = _install(world, connection.id)
    assert world.reload(connection).sync.time_zone == "UTC"
    assert not any("time zone" in change for change in again.changes)


def test_a_second_connection_in_the_same_environment_cannot_take_the_first_ones_webhook(world: World) -> None:
    # issue 16 (endpoint takeover): another account connects to the same Dynamics environment and installs
    victim = world.new_connection("acct-a", "Victim")
    connect_dynamics(world, victim.id)
    _install(world, victim.id)
    (before,) = world.dataverse.state.rows("contoso", "serviceendpoints")
    victim_key = str(before["authvalue"])
    attacker = world.new_connection("acct-b", "Attacker")
    connect_dynamics(world, attacker.id, account="acct-b")
    outcome = _install(world, attacker.id, account="acct-b")
    again = _install(world, attacker.id, account="acct-b", rotate=True)  # and rotates its own key
    # THEN the victim's webhook is untouched: its key, its URL, its name; the attacker got one of its own
    endpoints = {str(e["name"]): e for e in world.dataverse.state.rows("contoso", "serviceendpoints")}
    assert set(endpoints) == {f"{plan.ENDPOINT_NAME} {victim.id}", f"{plan.ENDPOINT_NAME} {attacker.id}"}
    mine = endpoints[f"{plan.ENDPOINT_NAME} {victim.id}"]
    assert mine["authvalue"] == victim_key and mine == before
    assert world.store.verify_webhook_key(world.reload(victim), victim_key)
    assert not world.store.verify_webhook_key(world.reload(attacker), victim_key)
    # AND the second connection is told the environment is already served
    assert OTHERS_SERVE in outcome.problems and OTHERS_SERVE in again.problems
