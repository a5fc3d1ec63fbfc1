"""Install into Dynamics against the sandbox: everything created once, nothing changed the second time,
the webhook firing (with its key) for invoice changes but never for the connector's own write-back,
repairs, key rotation, and privileges named in words."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from local.sandbox.common import ServerThread
from local.sandbox.dataverse import DataverseSandbox
from shared.config import Settings
from shared.dataverse import install_plan as plan
from shared.dataverse import schema
from shared.dataverse.client import DataverseClient
from shared.dataverse.install import MissingPrivilegesError, install
from shared.dataverse.invoice_query import invoice_query
from shared.dataverse.privileges import check_privileges
from shared.dataverse.tokens import AppOnlyTokens, DelegatedTokens
from shared.dataverse.uninstall import OTHERS_REMAIN, uninstall
from tests.support.dataverse_sign_in import ADMIN, LIMITED, signed_in

PLANNED_IMAGES = sum(len(step.images) for step in plan.STEPS)  # pre-images for a move and a delete

KEY, NEW_KEY = "first-webhook-key-0123456789", "rotated-webhook-key-9876543210"


class Receiver:
    """The connector's webhook endpoint, reduced to recording what Dataverse POSTs."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.server = ServerThread(self._app).start()
        self.url = f"{self.server.url}/api/dynamics/webhook/conn-1"

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.calls.append(
                {
                    "args": request.args.to_dict(),
                    "headers": dict(request.headers),
                    "json": request.get_json(silent=True),
                }
            )
        return Response("", status=202)(environ, start_response)

    def taken(self, sb: DataverseSandbox) -> list[dict[str, Any]]:
        assert sb.webhooks.wait_idle(5.0)
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.stop()


@pytest.fixture
def receiver(receiver_server: Receiver, sb: DataverseSandbox) -> Receiver:
    """The receiver with no calls recorded yet (after the sandbox's reset)."""
    receiver_server.calls.clear()
    return receiver_server


def delegated_client(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session, upn: str
) -> DataverseClient:
    result = signed_in(sb, dataverse_settings, dataverse_session, upn)
    tokens = DelegatedTokens(
        dataverse_settings,
        dataverse_session,
        result.cache_blob,
        result.home_account_id,
        tenant=result.tenant_id,
    )
    return DataverseClient(sb.env_url("contoso"), tokens.for_org(sb.env_url("contoso")), dataverse_session)


@pytest.fixture
def admin(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> DataverseClient:
    return delegated_client(sb, dataverse_settings, dataverse_session, ADMIN)


def stored(sb: DataverseSandbox, entity_set: str) -> list[dict[str, Any]]:
    return sb.state.rows("contoso", entity_set)


def test_install_creates_everything_once_and_changes_nothing_the_second_time(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # WHEN the admin installs into a fresh environment
    started = time.monotonic()
    first = install(admin, receiver.url, KEY)
    # THEN the columns, tables, keys, webhook and steps exist in the environment's definitions and rows
    env = sb.state.environments["contoso"]
    invoice = env.tables["invoice"].attributes
    assert {*schema.INVOICE_WRITE_BACK_COLUMNS, schema.INVOICE_SEND_TO_XERO} <= set(invoice)
    assert (
        invoice[schema.INVOICE_SYNC_ERROR].type == "Memo"
        and (invoice[schema.INVOICE_SYNC_ERROR].max_length or 0) >= 2000
    )
    assert invoice[schema.INVOICE_SEND_TO_XERO].type == "Boolean"
    for customer in ("account", "contact"):
        assert env.tables[customer].attributes[schema.CUSTOMER_XERO_CONTACT_ID].type == "String"
    for name in (*schema.REFERENCE_TABLES, schema.SETTINGS_TABLE):
        assert (
            env.tables[name].ownership == "OrganizationOwned" and env.tables[name].primary_name == "dxc_name"
        )
    for name in schema.REFERENCE_TABLES:
        table = env.tables[name]
        assert {"dxc_xeroid", "dxc_code", "dxc_status", "dxc_isactive"} <= set(table.attributes)
        assert table.keys[schema.REFERENCE_KEY_NAME].attributes == (schema.REFERENCE_ID_COLUMN,)
    assert env.tables[schema.TAX_RATE_TABLE].attributes["dxc_rate"].type == "Decimal"
    (endpoint,) = stored(sb, "serviceendpoints")
    assert (endpoint["name"], endpoint["url"], endpoint["authvalue"]) == (
        plan.ENDPOINT_NAME,
        receiver.url,
        KEY,
    )
    assert (endpoint["contract"], endpoint["authtype"], endpoint["messageformat"]) == (8, 4, 2)
    steps = stored(sb, "sdkmessageprocessingsteps")
    assert len(steps) == 5 and all(s["eventhandler"].id == endpoint["serviceendpointid"] for s in steps)
    assert all((s["stage"], s["mode"], s["asyncautodelete"]) == (40, 1, True) for s in steps)
    assert first.key_written and first.problems == [] and len(first.changes) > 40
    # WHEN it runs again
    second = install(admin, receiver.url, NEW_KEY)
    # THEN nothing changed, the key Dynamics holds is still the first one, and it was quick
    assert second.changes == [] and second.problems == [] and not second.key_written
    assert len(second.unchanged) == len(first.changes)
    assert (
        stored(sb, "serviceendpoints")[0]["authvalue"] == KEY
        and len(stored(sb, "sdkmessageprocessingsteps")) == 5
    )
    assert time.monotonic() - started < 10


def test_the_webhook_fires_for_invoice_changes_but_not_for_the_write_back(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # GIVEN the connector installed
    install(admin, receiver.url, KEY)
    # WHEN someone creates an invoice in Dynamics
    invoice_id = admin.create("invoices", {"name": "Webhook test"})
    # THEN Dataverse POSTs it to the connector with the key in ?code=
    (created,) = receiver.taken(sb)
    assert created["args"] == {"code": KEY}
    assert created["headers"]["X-Ms-Dynamics-Entity-Name"] == "invoice"
    assert created["json"]["MessageName"] == "Create" and created["json"]["PrimaryEntityId"] == invoice_id
    # WHEN the connector writes only its own write-back columns
    admin.update(
        "invoices",
        invoice_id,
        {
            schema.INVOICE_XERO_NUMBER: "INV-0042",
            schema.INVOICE_SYNC_ERROR: "",
            schema.INVOICE_SYNC_WARNING: "Warning: Xero's total 11.50 differs from the Dynamics total 10.00",
        },
    )
    # THEN no webhook fires
    assert receiver.taken(sb) == []
    # WHEN a person changes a column that matters
    admin.update("invoices", invoice_id, {"name": "Webhook test (changed)"})
    # THEN it fires again
    (updated,) = receiver.taken(sb)
    assert updated["json"]["MessageName"] == "Update"


def test_install_adds_the_warning_column_to_an_installation_made_before_it(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # GIVEN an environment installed before the invoice had a sync-warning column
    install(admin, receiver.url, KEY)
    assert admin.delete(
        "EntityDefinitions(LogicalName='invoice')/Attributes", f"LogicalName='{schema.INVOICE_SYNC_WARNING}'"
    )
    assert schema.INVOICE_SYNC_WARNING not in sb.state.environments["contoso"].tables["invoice"].attributes
    # WHEN install runs again (the upgrade)
    report = install(admin, receiver.url, KEY)
    # THEN only that column was added, as a long text, and the next run changes nothing
    assert (
        report.changes == [f"Added column {schema.INVOICE_SYNC_WARNING} on invoice"] and not report.problems
    )
    added = sb.state.environments["contoso"].tables["invoice"].attributes[schema.INVOICE_SYNC_WARNING]
    assert added.type == "Memo" and (added.max_length or 0) >= 2000
    assert install(admin, receiver.url, KEY).changes == []
    # AND the Update step does not fire for it: the connector's own warning never sends the invoice again
    step = next(s for s in stored(sb, "sdkmessageprocessingsteps") if s["filteringattributes"])
    assert schema.INVOICE_SYNC_WARNING not in step["filteringattributes"].split(",")


def test_install_repairs_a_disabled_step_and_rotates_the_key_only_when_asked(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # GIVEN an installation whose invoice Update step an administrator switched off and narrowed
    install(admin, receiver.url, KEY)
    step = next(s for s in stored(sb, "sdkmessageprocessingsteps") if s["filteringattributes"])
    admin.update(
        "sdkmessageprocessingsteps",
        step["sdkmessageprocessingstepid"],
        {"statecode": 1, "statuscode": 2, "filteringattributes": "name"},
    )
    # WHEN install runs again, asked to rotate the key
    report = install(admin, receiver.url, NEW_KEY, rotate_key=True)
    # THEN exactly that step was repaired and the new key written
    assert report.key_written
    assert report.changes == [
        "Gave the webhook a new key",
        "Repaired the step Update of invoice: filteringattributes, statecode, statuscode",
    ]
    repaired = next(
        s
        for s in stored(sb, "sdkmessageprocessingsteps")
        if s["sdkmessageprocessingstepid"] == step["sdkmessageprocessingstepid"]
    )
    assert repaired["statecode"] == 0 and set(repaired["filteringattributes"].split(",")) == set(
        schema.INVOICE_TRIGGER_COLUMNS
    )
    # AND Dynamics now presents the new key
    admin.create("invoices", {"name": "After rotation"})
    (call,) = receiver.taken(sb)
    assert call["args"] == {"code": NEW_KEY}


def test_install_registers_the_invoiceid_images_a_line_change_and_a_deletion_need(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # GIVEN the connector installed, and an invoice with two lines
    install(admin, receiver.url, KEY)
    invoice_id = admin.create("invoices", {"name": "Lines"})
    lines = [
        admin.create(
            "invoicedetails",
            {
                "invoiceid@odata.bind": f"/invoices({invoice_id})",
                "isproductoverridden": True,
                "productdescription": f"Line {n}",
                "quantity": 1,
                "priceperunit": 10,
            },
        )
        for n in (1, 2)
    ]
    receiver.taken(sb)
    # WHEN a person changes only a line's quantity, then deletes the other line
    admin.update("invoicedetails", lines[0], {"quantity": 3})
    sb.webhooks.wait_idle()
    admin.delete("invoicedetails", lines[1])
    calls = [c["json"] for c in receiver.taken(sb) if c["json"]["PrimaryEntityName"] == "invoicedetail"]
    # THEN each event names its invoice in the image the install registered — and only that column
    update, delete = calls
    post = {i["key"]: i["value"] for i in update["PostEntityImages"]}["PostImage"]
    pre = {i["key"]: i["value"] for i in delete["PreEntityImages"]}["PreImage"]
    for image in (post, pre):
        assert [(a["key"], a["value"]["Id"]) for a in image["Attributes"]] == [("invoiceid", invoice_id)]
    assert delete["InputParameters"][0]["value"]["__type"].startswith("EntityReference:")
    # WHEN an administrator empties an image's columns, install repairs it
    image = next(i for i in stored(sb, "sdkmessageprocessingstepimages") if i["entityalias"] == "PreImage")
    admin.update(
        "sdkmessageprocessingstepimages", image["sdkmessageprocessingstepimageid"], {"attributes": "name"}
    )
    report = install(admin, receiver.url, KEY)
    [repaired] = report.changes
    assert re.fullmatch(
        r"Repaired the PreImage of the step (Update|Delete) of invoicedetail: attributes", repaired
    )
    assert len(stored(sb, "sdkmessageprocessingstepimages")) == PLANNED_IMAGES


def test_install_into_an_environment_with_no_publisher_makes_one_solution_holding_every_part(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # GIVEN an environment with only its default publisher (prefix "new")
    assert [p["customizationprefix"] for p in stored(sb, "publishers")] == ["new"]
    # WHEN the connector is installed
    report = install(admin, receiver.url, KEY)
    # THEN its own publisher owns the dxc prefix, and the Xero Connector solution holds every table,
    # column, key, the webhook, its steps and their images
    (publisher,) = [p for p in stored(sb, "publishers") if p["customizationprefix"] == "dxc"]
    (solution,) = [s for s in stored(sb, "solutions") if s["uniquename"] == plan.SOLUTION]
    assert solution["publisherid"].id == publisher["publisherid"]
    assert "Created the solution Xero Connector" in report.changes
    components = [c for c in stored(sb, "solutioncomponents") if c["solutionid"].id == solution["solutionid"]]
    kinds = sorted(c["componenttype"] for c in components)
    tables, keys = len(plan.TABLES), sum(1 for t in plan.TABLES if t.key)
    columns = sum(len(c) for c in plan.COLUMNS_BY_TABLE.values()) + sum(len(t.columns) for t in plan.TABLES)
    assert kinds.count(1) == tables and kinds.count(14) == keys and kinds.count(2) == columns
    assert (kinds.count(95), kinds.count(92), kinds.count(93)) == (1, len(plan.STEPS), PLANNED_IMAGES)
    # AND a second install reuses them
    again = install(admin, receiver.url, KEY)
    assert again.changes == [] and len(stored(sb, "solutions")) == 2


def test_the_push_query_reads_an_invoice_after_install(
    sb: DataverseSandbox,
    dataverse_settings: Settings,
    dataverse_session: requests.Session,
    admin: DataverseClient,
    receiver: Receiver,
) -> None:
    # GIVEN an installed environment and the connector's app-only identity
    install(admin, receiver.url, KEY)
    tokens = AppOnlyTokens(dataverse_settings, dataverse_session, sb.identity.environments[0].tenant_id)
    app = DataverseClient(sb.env_url("contoso"), tokens.for_org(sb.env_url("contoso")), dataverse_session)
    (row,) = app.get_all("invoices?$select=invoiceid&$filter=invoicenumber eq 'INV-00002'")
    # WHEN the push reads its one invoice document (shared.dataverse.invoice_query)
    document = app.get(invoice_query(row["invoiceid"]))
    # THEN the write-back columns are there (empty) beside the lines and the contact
    assert document[schema.INVOICE_XERO_ID] is None and document[schema.INVOICE_SEND_TO_XERO] is False
    assert document["customerid_contact"]["emailaddress1"] == "ana.bauer@example.com"
    assert len(document["invoice_details"]) == 2
    assert check_privileges(app) == []


def test_the_limited_user_is_told_which_privileges_are_missing(
    sb: DataverseSandbox,
    dataverse_settings: Settings,
    dataverse_session: requests.Session,
    admin: DataverseClient,
    receiver: Receiver,
) -> None:
    limited = delegated_client(sb, dataverse_settings, dataverse_session, LIMITED)
    # WHEN the limited user tries to install
    with pytest.raises(MissingPrivilegesError) as refused:
        install(limited, receiver.url, KEY)
    # THEN nothing was created and the missing install privileges are named in words
    assert stored(sb, "serviceendpoints") == []
    assert {"Create Entity", "Create Attribute", "Create Service Endpoint"} <= {
        m.name for m in refused.value.missing
    }
    assert "Create Service Endpoint — needed to register the webhook" in str(refused.value)
    # WHEN the admin installed and the limited user's privileges are checked for running the sync
    install(admin, receiver.url, KEY)
    missing = {m.privilege: str(m) for m in check_privileges(limited)}
    # THEN writing invoices and accounts and using the connector's tables are missing; reading is not
    assert missing["prvWriteInvoice"] == "Write Invoice — needed to write the Xero number back on invoices"
    assert "prvWriteAccount" in missing and "prvReaddxc_XeroTaxRate" in missing
    assert not {"prvReadInvoice", "prvReadProduct", "prvReadAccount", "prvWriteContact"} & set(missing)
    assert check_privileges(admin) == []


def environment_shape(client: DataverseClient) -> dict[str, Any]:
    """What the metadata API and the solution tables list: every table, every custom column of the tables
    the install adds columns to, publishers, solutions, webhooks, steps and images."""
    tables = sorted(str(t["LogicalName"]) for t in client.get_all("EntityDefinitions?$select=LogicalName"))
    columns = {
        name: sorted(
            str(a["LogicalName"])
            for a in client.get_all(
                f"EntityDefinitions(LogicalName='{name}')/Attributes?$select=LogicalName"
                "&$filter=IsCustomAttribute eq true"
            )
        )
        for name in plan.COLUMNS_BY_TABLE
    }
    rows = {
        entity_set: len(client.get_all(f"{entity_set}?$select={key}"))
        for entity_set, key in (
            ("publishers", "publisherid"),
            ("solutions", "solutionid"),
            ("serviceendpoints", "serviceendpointid"),
            ("sdkmessageprocessingsteps", "sdkmessageprocessingstepid"),
            ("sdkmessageprocessingstepimages", "sdkmessageprocessingstepimageid"),
        )
    }
    return {"tables": tables, "columns": columns, "rows": rows}


def test_uninstall_removes_only_this_connections_webhook_then_everything_with_the_last_connection(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # GIVEN an environment as it was before the connector, then two connections installed into it
    before = environment_shape(admin)
    memberships = len(stored(sb, "solutioncomponents"))
    install(admin, receiver.url, KEY, connection_id="conn-a")
    install(admin, receiver.url, NEW_KEY, connection_id="conn-b")
    b_endpoint = [e for e in stored(sb, "serviceendpoints") if e["name"] == plan.endpoint_name("conn-b")]
    b_steps = [
        s
        for s in stored(sb, "sdkmessageprocessingsteps")
        if s["eventhandler"].id == b_endpoint[0]["serviceendpointid"]
    ]
    b_images = [
        i
        for i in stored(sb, "sdkmessageprocessingstepimages")
        if i["sdkmessageprocessingstepid"].id in {s["sdkmessageprocessingstepid"] for s in b_steps}
    ]
    # WHEN connection A is uninstalled
    report = uninstall(admin, "conn-a")
    # THEN A's webhook, steps and images are gone, B's are all there, with the tables B needs
    names = [e["name"] for e in stored(sb, "serviceendpoints")]
    assert names == [plan.endpoint_name("conn-b")]
    assert len(stored(sb, "sdkmessageprocessingsteps")) == len(b_steps) == len(plan.STEPS)
    assert len(stored(sb, "sdkmessageprocessingstepimages")) == len(b_images) == PLANNED_IMAGES
    assert OTHERS_REMAIN in report.kept
    assert environment_shape(admin)["tables"] != before["tables"]
    # AND uninstalling B, the last one, leaves the environment as it was before the install
    last = uninstall(admin, "conn-b")
    assert environment_shape(admin) == before
    assert len(stored(sb, "solutioncomponents")) == memberships  # no solution lists a deleted part
    assert "Solution Xero Connector" in last.removed and "Publisher Dynamics Xero Connector" in last.removed
    # AND a second run finds nothing left to do
    assert uninstall(admin, "conn-b").removed == []


def test_deleting_the_unmanaged_solution_alone_leaves_its_components_in_the_environment(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # Learn, "Solution entity messages and methods": deleting an unmanaged solution removes the group only
    install(admin, receiver.url, KEY, connection_id="conn-a")
    tables = environment_shape(admin)["tables"]
    (solution,) = [s for s in stored(sb, "solutions") if s["uniquename"] == plan.SOLUTION]
    assert admin.delete("solutions", solution["solutionid"])
    assert environment_shape(admin)["tables"] == tables
    assert all(t.logical_name in tables for t in plan.TABLES)
    assert not [c for c in stored(sb, "solutioncomponents") if c["solutionid"].id == solution["solutionid"]]


def import_solution(admin: DataverseClient) -> None:
    """What importing the solution .zip leaves in the environment, made through the metadata API: the
    publisher, the unmanaged solution, and every table, column and key of the plan inside it."""
    publisher = admin.create(
        "publishers",
        {
            "uniquename": plan.PUBLISHER,
            "friendlyname": plan.PUBLISHER_LABEL,
            "customizationprefix": schema.PREFIX,
            "customizationoptionvalueprefix": plan.OPTION_VALUE_PREFIX,
        },
    )
    admin.create(
        "solutions",
        {
            "uniquename": plan.SOLUTION,
            "friendlyname": plan.SOLUTION_LABEL,
            "version": "1.0.0.0",
            "publisherid@odata.bind": f"/publishers({publisher})",
        },
    )
    for table_name, columns in plan.COLUMNS_BY_TABLE.items():
        for column in columns:
            admin.create(
                f"EntityDefinitions(LogicalName='{table_name}')/Attributes", column.metadata(), plan.SOLUTION
            )
    for table in plan.TABLES:
        admin.create("EntityDefinitions", table.metadata(), plan.SOLUTION)
        for column in table.columns:
            admin.create(
                f"EntityDefinitions(LogicalName='{table.logical_name}')/Attributes",
                column.metadata(),
                plan.SOLUTION,
            )
        if table.key:
            admin.create(
                f"EntityDefinitions(LogicalName='{table.logical_name}')/Keys",
                table.key.metadata(),
                plan.SOLUTION,
            )


def test_an_imported_solution_is_detected_and_only_the_webhook_and_steps_are_registered(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # GIVEN the admin imported the solution, and the connector's user may not customise the environment
    import_solution(admin)
    shape = environment_shape(admin)
    customising = ["prvCreatePublisher", "prvCreateSolution", "prvCreateEntity", "prvCreateAttribute"]
    sb.control._privileges(ADMIN, {"remove": customising, "environment": "contoso"})
    # WHEN the connection installs
    report = install(admin, receiver.url, KEY, connection_id="conn-a")
    # THEN only the webhook, its steps and their images were added; the definitions are as imported
    assert report.changes == [
        f"Registered the webhook {plan.endpoint_name('conn-a')}",
        *(
            line
            for step in plan.STEPS
            for line in (
                f"Added the step {step.message} of {step.table}",
                *(f"Added the {i.kind} of the step {step.message} of {step.table}" for i in step.images),
            )
        ),
    ]
    assert any("(imported)" in line for line in report.unchanged)
    after = environment_shape(admin)
    assert (after["tables"], after["columns"]) == (shape["tables"], shape["columns"])
    assert after["rows"]["serviceendpoints"] == 1


def test_an_incomplete_import_still_needs_the_customising_privileges(
    sb: DataverseSandbox, admin: DataverseClient, receiver: Receiver
) -> None:
    # GIVEN an import that lacks one column (someone deleted it), and a user who may not customise
    import_solution(admin)
    admin.delete("EntityDefinitions(LogicalName='invoice')/Attributes", "LogicalName='dxc_xerourl'")
    sb.control._privileges(ADMIN, {"remove": ["prvCreateAttribute"], "environment": "contoso"})
    # WHEN the connection installs, THEN it stops, naming the privilege (nothing registered)
    with pytest.raises(MissingPrivilegesError) as refused:
        install(admin, receiver.url, KEY, connection_id="conn-a")
    assert [m.privilege for m in refused.value.missing] == ["prvCreateAttribute"]
    assert stored(sb, "serviceendpoints") == []
