"""The downloadable solution .zip holds exactly what Install into Dynamics creates (install_plan), as an
unmanaged solution of the connector's publisher, in well-formed XML."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree as ET

from shared.dataverse import install_plan as plan
from shared.dataverse.solution_package import package


def _open() -> dict[str, ET.Element]:
    with zipfile.ZipFile(io.BytesIO(package())) as archive:
        assert sorted(archive.namelist()) == ["[Content_Types].xml", "customizations.xml", "solution.xml"]
        return {name: ET.fromstring(archive.read(name)) for name in archive.namelist()}  # noqa: S314 (our own bytes)


def test_the_zip_lists_every_table_column_and_key_the_install_creates() -> None:
    files = _open()
    wanted = {(table, c.logical_name) for table, columns in plan.COLUMNS_BY_TABLE.items() for c in columns}
    for table in plan.TABLES:
        wanted |= {(table.logical_name, c.logical_name) for c in (table.primary_name, *table.columns)}
    found = set()
    keys = set()
    for entity in files["customizations.xml"].iter("entity"):
        table_name = entity.attrib["Name"].lower()
        found |= {(table_name, a.findtext("LogicalName")) for a in entity.iter("attribute")}
        keys |= {(table_name, k.findtext("LogicalName")) for k in entity.iter("EntityKey")}
    assert found == wanted
    assert keys == {(t.logical_name, t.key.logical_name) for t in plan.TABLES if t.key}


def test_the_manifest_names_the_unmanaged_solution_its_publisher_and_every_table() -> None:
    manifest = _open()["solution.xml"].find("SolutionManifest")
    assert manifest is not None
    assert manifest.findtext("UniqueName") == plan.SOLUTION and manifest.findtext("Managed") == "0"
    assert manifest.findtext("Publisher/CustomizationPrefix") == "dxc"
    assert manifest.findtext("Publisher/UniqueName") == plan.PUBLISHER
    roots = {r.attrib["schemaName"] for r in manifest.iter("RootComponent")}
    assert roots == set(plan.COLUMNS_BY_TABLE) | {t.logical_name for t in plan.TABLES}
