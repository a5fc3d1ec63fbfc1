"""The tables of publishers and solutions (Learn: publisher, solution and solutioncomponent table
references); what they mean is in solutions.py."""

from __future__ import annotations

from .metadata_columns import lookup, new_table, s
from .metadata_model import BOOLEAN, INTEGER, UNIQUEID, Attribute, Table


def solution_tables() -> list[Table]:
    publisher = new_table(
        "publisher", "publishers", "friendlyname", 7101, "Publisher", schema_name="Publisher"
    )
    for a in (
        s("uniquename", 256),
        s("friendlyname", 256),
        s("customizationprefix", 8),
        Attribute("customizationoptionvalueprefix", INTEGER, min_value=10000, max_value=99999),
    ):
        publisher.add(a)
    solution = new_table("solution", "solutions", "friendlyname", 7100, "Solution", schema_name="Solution")
    for a in (
        s("uniquename", 65),
        s("friendlyname", 256),
        s("version", 256),
        lookup("publisherid", "publisher"),
        Attribute("ismanaged", BOOLEAN),
    ):
        solution.add(a)
    component = new_table(
        "solutioncomponent", "solutioncomponents", "solutioncomponentid", 7103, "Solution Component",
        schema_name="SolutionComponent",
    )  # fmt: skip
    for a in (
        lookup("solutionid", "solution"),
        Attribute("objectid", UNIQUEID),
        Attribute("componenttype", INTEGER, min_value=0, max_value=1000),
    ):
        component.add(a)
    return [publisher, solution, component]
