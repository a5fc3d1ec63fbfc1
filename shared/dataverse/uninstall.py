"""Uninstall from Dynamics: take away what Install into Dynamics added, and nothing that belongs to
anyone else.

Order: this connection's webhook first (the images of its steps, its steps, its service endpoint), so
Dynamics stops calling us before anything else changes. The tables and columns serve every connection of
this connector in the environment: they go only when no other connection's webhook remains (another
connection's endpoint, steps and images are never touched). Then the Xero Connector solution and, when
nothing else uses it, the connector's own publisher.

Why the components are deleted one by one and not by deleting the solution: deleting an unmanaged solution
removes only the group, every component stays in the environment (Learn, "Solution entity messages and
methods": "When a solution is unmanaged, it is just a named grouping for a set of solution components.
Deleting an unmanaged solution just removes the group. All solution components remain."; the same in
"Uninstall or delete a solution" for Customer Engagement). Only a managed solution's deletion uninstalls its
components, and the install makes an unmanaged one.

Deleting a table or a column deletes the data in it (every invoice's Xero number and link): the portal asks
for an explicit confirmation before calling this. Idempotent: what is already gone is skipped, so a run
cut short is finished by running it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.dataverse import install_plan as plan
from shared.dataverse.client import DataverseClient
from shared.dataverse.install_webhook import odata_string
from shared.errors import NotFoundError

OTHERS_REMAIN = (
    "Another connection of this connector still uses this Dynamics environment, so the Xero tables and "
    "columns and the Xero Connector solution stay for it. Uninstall that connection too to remove them."
)


@dataclass
class UninstallReport:
    removed: list[str] = field(default_factory=list)  # what this run deleted, in words
    kept: list[str] = field(default_factory=list)  # why something stays


def uninstall(client: DataverseClient, connection_id: str) -> UninstallReport:
    report = UninstallReport()
    report.removed += remove_own_webhook(client, connection_id)
    others = client.get_all(
        "serviceendpoints?$select=serviceendpointid,name"
        f"&$filter=startswith(name,{odata_string(plan.ENDPOINT_NAME)})"
    )
    if others:
        report.kept.append(OTHERS_REMAIN)
        return report
    for table in plan.TABLES:  # a table's keys and columns go with it
        if _delete(client, f"EntityDefinitions(LogicalName='{table.logical_name}')"):
            report.removed.append(f"Table {table.logical_name}")
    for table_name, columns in plan.COLUMNS_BY_TABLE.items():
        for column in columns:
            table_path = f"EntityDefinitions(LogicalName='{table_name}')"
            if _delete(client, f"{table_path}/Attributes(LogicalName='{column.logical_name}')"):
                report.removed.append(f"Column {column.logical_name} on {table_name}")
    _remove_solution_and_publisher(client, report)
    return report


def remove_own_webhook(client: DataverseClient, connection_id: str) -> list[str]:
    """This connection's endpoint (found by its own name), its steps and their images; what was removed, in
    words. Images are deleted before their step and steps before their endpoint: whether Dataverse cascades
    either deletion is not stated on the sdkmessageprocessingstepimage page (unverified), so the order that
    needs no cascade. Deleting a connection and uninstalling both remove its webhook through here."""
    removed: list[str] = []
    name = plan.endpoint_name(connection_id)
    endpoints = client.get_all(
        f"serviceendpoints?$select=serviceendpointid&$filter=name eq {odata_string(name)}"
    )
    for endpoint in endpoints:
        endpoint_id = str(endpoint["serviceendpointid"])
        steps = client.get_all(
            "sdkmessageprocessingsteps?$select=sdkmessageprocessingstepid"
            f"&$filter=_eventhandler_value eq {endpoint_id}"
        )
        for step in steps:
            step_id = str(step["sdkmessageprocessingstepid"])
            images = client.get_all(
                "sdkmessageprocessingstepimages?$select=sdkmessageprocessingstepimageid"
                f"&$filter=_sdkmessageprocessingstepid_value eq {step_id}"
            )
            for image in images:
                client.delete("sdkmessageprocessingstepimages", str(image["sdkmessageprocessingstepimageid"]))
            client.delete("sdkmessageprocessingsteps", step_id)
        client.delete("serviceendpoints", endpoint_id)
        removed.append(f"Webhook {name} with its {len(steps)} steps")
    return removed


def _remove_solution_and_publisher(client: DataverseClient, report: UninstallReport) -> None:
    solutions = client.get_all(
        f"solutions?$select=solutionid&$filter=uniquename eq {odata_string(plan.SOLUTION)}"
    )
    for solution in solutions:
        if client.delete("solutions", str(solution["solutionid"])):
            report.removed.append(f"Solution {plan.SOLUTION_LABEL}")
    publishers = client.get_all(
        f"publishers?$select=publisherid&$filter=uniquename eq {odata_string(plan.PUBLISHER)}"
    )
    for publisher in publishers:
        publisher_id = str(publisher["publisherid"])
        still_used = client.get_all(
            f"solutions?$select=solutionid&$filter=_publisherid_value eq {publisher_id}"
        )
        if still_used:  # an admin's own solution under our publisher: the publisher stays for it
            report.kept.append(f"The publisher {plan.PUBLISHER_LABEL} stays: other solutions use it.")
            continue
        if client.delete("publishers", publisher_id):
            report.removed.append(f"Publisher {plan.PUBLISHER_LABEL}")


def _delete(client: DataverseClient, path: str) -> bool:
    """DELETE a metadata definition by its path; False when it was already gone."""
    entity_set, _, key = path.rpartition("(")
    try:
        return client.delete(entity_set, key.removesuffix(")"))
    except NotFoundError:
        return False
