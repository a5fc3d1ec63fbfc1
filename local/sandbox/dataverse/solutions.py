"""Publishers and solutions: who may create customisations, and which solution holds each component.

Learn, "Solution concepts" / "Create a solution publisher" / "Work with solutions using the Dataverse
SDK": every custom table, column and key carries the customization prefix of a publisher; a component
created with the `MSCRM.SolutionUniqueName` header is added to that (unmanaged) solution, and every
component is also in the environment's Default Solution. The refusals' words and codes are unverified
(the stricter choice: a prefix no publisher owns, or another publisher's prefix than the solution's, is
refused)."""

from __future__ import annotations

from .errors import DataverseError
from .records import WriteContext, create_row
from .store import EnvironmentState, Ref, Row

SYSTEM_USER = "00000000-0000-0000-0000-000000000001"  # system_rows.SYSTEM (that module imports this one)

SOLUTION_HEADER = "MSCRM.SolutionUniqueName"
# solutioncomponent.componenttype (Learn, solutioncomponent table reference)
ENTITY, ATTRIBUTE, ENTITY_KEY, STEP, STEP_IMAGE, SERVICE_ENDPOINT = 1, 2, 14, 92, 93, 95
COMPONENT_OF_TABLE = {
    "sdkmessageprocessingstep": STEP,
    "sdkmessageprocessingstepimage": STEP_IMAGE,
    "serviceendpoint": SERVICE_ENDPOINT,
}


def check_prefix(env: EnvironmentState, schema_name: str, solution: str) -> None:
    """The schema name's prefix must be a publisher's; with a solution, that solution's publisher's."""
    prefix = schema_name.split("_", 1)[0].lower() if "_" in schema_name else ""
    owners = {str(p.get("customizationprefix") or "").lower() for p in env.all_rows("publisher")}
    if solution:
        found = solution_row(env, solution)
        publisher = (
            env.get("publisher", found["publisherid"].id)
            if isinstance(found.get("publisherid"), Ref)
            else None
        )
        wanted = str((publisher or {}).get("customizationprefix") or "").lower()
        if prefix != wanted:
            raise DataverseError(
                400, "0x80044355",
                f"The schema name '{schema_name}' must start with the customization prefix '{wanted}_' "
                f"of the publisher of solution '{solution}'.",
            )  # fmt: skip
        return
    if not prefix or prefix not in owners:
        raise DataverseError(
            400, "0x80044355",
            f"The schema name '{schema_name}' must start with the customization prefix of a publisher "
            "in this environment.",
        )  # fmt: skip


def solution_row(env: EnvironmentState, unique_name: str) -> Row:
    for row in env.all_rows("solution"):
        if str(row.get("uniquename") or "").lower() == unique_name.lower():
            return row
    raise DataverseError(404, "0x8004a101", f"The solution '{unique_name}' does not exist.")  # (sandbox) code


def add_component(env: EnvironmentState, solution: str, object_id: str, component_type: int) -> None:
    """Record the component in the named solution and in the Default Solution (no webhooks fire)."""
    names = {"Default", solution} if solution else {"Default"}
    for name in names:
        try:
            found = solution_row(env, name)
        except DataverseError:
            continue
        values = {
            "solutionid": Ref(str(found["solutionid"]), "solution"),
            "objectid": object_id,
            "componenttype": component_type,
        }
        create_row(env, env.tables["solutioncomponent"], values, WriteContext(SYSTEM_USER, ""))


def forget_solution(env: EnvironmentState, solution: Row) -> None:
    """Before a solution row is deleted: its membership rows go, the components themselves stay. Learn,
    "Solution entity messages and methods": "When a solution is unmanaged, it is just a named grouping for
    a set of solution components. Deleting an unmanaged solution just removes the group. All solution
    components remain." (A managed solution's deletion uninstalls its components; the sandbox has no
    managed solutions, so that case is refused rather than imitated.) The Default Solution cannot be
    deleted (unverified wording; the stricter choice)."""
    if solution.get("ismanaged"):
        raise DataverseError(
            400, "0x80048542", "Uninstalling a managed solution is not supported by the sandbox."
        )
    if str(solution.get("uniquename") or "").lower() == "default":
        raise DataverseError(400, "0x80048542", "The Default Solution cannot be deleted.")
    solution_id = str(solution["solutionid"])
    kept = {
        component_id: row
        for component_id, row in env.rows.get("solutioncomponent", {}).items()
        if not (isinstance(row.get("solutionid"), Ref) and row["solutionid"].id == solution_id)
    }
    env.rows["solutioncomponent"] = kept


def forget_component(env: EnvironmentState, object_id: str) -> None:
    """A deleted component leaves every solution it was in (unverified that Dataverse removes the
    solutioncomponent rows at once; the stricter choice: no membership points at nothing)."""
    rows = env.rows.get("solutioncomponent", {})
    env.rows["solutioncomponent"] = {
        key: row for key, row in rows.items() if str(row.get("objectid") or "").lower() != object_id.lower()
    }
