"""The Xero Connector solution as a .zip an administrator imports in Dynamics (Settings → Solutions →
Import), for organisations that do not let an app change their customisations. The connection then finds
the imported solution and registers only the webhook and its steps (install.imported_solution_complete):
the webhook carries this connection's key, so it is never in the file.

Built from install_plan, the same plan the install creates, so the two cannot drift.

File layout (Learn, "Customization XML reference": an exported unmanaged solution is a compressed .zip
holding customizations.xml among its files; SolutionPackager's documentation ("SolutionPackager tool")
names the root files of a solution .zip: solution.xml, customizations.xml and [Content_Types].xml). The
elements inside follow the shape of exported solutions (ImportExportXml, SolutionManifest, Publisher,
RootComponents, Entities/Entity/EntityInfo/entity/attributes); Learn does not document them field by field,
so each element's exact name and the values of Type, behavior and SolutionPackageVersion are unverified:
this is a minimal well-formed package, not one checked against Dynamics' import schema.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree as ET

from shared.dataverse import install_plan as plan
from shared.dataverse import schema
from shared.dataverse.install_specs import LANGUAGE, Column, Key

FILE_NAME = f"{plan.SOLUTION}_1_0_0_0.zip"
VERSION = "1.0.0.0"
ENTITY_COMPONENT = 1  # solutioncomponent.componenttype Entity (Learn, solutioncomponent table reference)
# RootComponent behavior: 0 includes the table with all its parts (the connector's own tables); 2 adds no
# parts of a built-in table except those listed in customizations.xml (unverified value)
_WHOLE, _SHELL = "0", "2"
# Column types as exported solutions name them (unverified)
_TYPE = {
    "string": "nvarchar",
    "memo": "ntext",
    "datetime": "datetime",
    "date": "datetime",
    "boolean": "bit",
    "decimal": "decimal",
}
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/octet-stream" /></Types>'
)


def package() -> bytes:
    """The unmanaged solution .zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("solution.xml", _xml(solution_manifest()))
        archive.writestr("customizations.xml", _xml(customizations()))
    return buffer.getvalue()


def solution_manifest() -> ET.Element:
    root = ET.Element(
        "ImportExportXml", version="9.2.0.0", SolutionPackageVersion="9.2", languagecode=str(LANGUAGE)
    )
    manifest = ET.SubElement(root, "SolutionManifest")
    ET.SubElement(manifest, "UniqueName").text = plan.SOLUTION
    _names(manifest, plan.SOLUTION_LABEL)
    ET.SubElement(manifest, "Version").text = VERSION
    ET.SubElement(manifest, "Managed").text = "0"  # unmanaged: the admin can remove it part by part
    publisher = ET.SubElement(manifest, "Publisher")
    ET.SubElement(publisher, "UniqueName").text = plan.PUBLISHER
    _names(publisher, plan.PUBLISHER_LABEL)
    ET.SubElement(publisher, "CustomizationPrefix").text = schema.PREFIX
    ET.SubElement(publisher, "CustomizationOptionValuePrefix").text = str(plan.OPTION_VALUE_PREFIX)
    components = ET.SubElement(manifest, "RootComponents")
    for table_name in plan.COLUMNS_BY_TABLE:
        ET.SubElement(
            components, "RootComponent", type=str(ENTITY_COMPONENT), schemaName=table_name, behavior=_SHELL
        )
    for table in plan.TABLES:
        ET.SubElement(
            components,
            "RootComponent",
            type=str(ENTITY_COMPONENT),
            schemaName=table.logical_name,
            behavior=_WHOLE,
        )
    ET.SubElement(manifest, "MissingDependencies")
    return root


def customizations() -> ET.Element:
    root = ET.Element("ImportExportXml")
    entities = ET.SubElement(root, "Entities")
    for table_name, columns in plan.COLUMNS_BY_TABLE.items():
        _entity(entities, table_name, table_name, None, columns, None)
    for table in plan.TABLES:
        _entity(
            entities,
            table.schema_name,
            table.logical_name,
            (table.label, table.plural, table.description),
            (table.primary_name, *table.columns),
            table.key,
            primary=table.primary_name.logical_name,
        )
    for name in (
        "Roles",
        "Workflows",
        "FieldSecurityProfiles",
        "Templates",
        "EntityMaps",
        "EntityRelationships",
    ):
        ET.SubElement(root, name)
    return root


def _entity(
    parent: ET.Element,
    schema_name: str,
    logical_name: str,
    labels: tuple[str, str, str] | None,
    columns: tuple[Column, ...],
    key: Key | None,
    primary: str = "",
) -> None:
    entity = ET.SubElement(parent, "Entity")
    ET.SubElement(entity, "Name", LocalizedName=labels[0] if labels else logical_name).text = schema_name
    info = ET.SubElement(ET.SubElement(entity, "EntityInfo"), "entity", Name=schema_name)
    if labels is not None:  # a table of the connector's own: its names, ownership, description
        _names(info, labels[0], "LocalizedNames", "LocalizedName")
        _names(info, labels[1], "LocalizedCollectionNames", "LocalizedCollectionName")
        _names(info, labels[2], "Descriptions", "Description")
        ET.SubElement(info, "OwnershipTypeMask").text = "OrgOwned"
    attributes = ET.SubElement(info, "attributes")
    for column in columns:
        attribute = ET.SubElement(attributes, "attribute", PhysicalName=column.schema_name)
        ET.SubElement(attribute, "Type").text = _TYPE[column.kind]
        ET.SubElement(attribute, "Name").text = column.logical_name
        ET.SubElement(attribute, "LogicalName").text = column.logical_name
        ET.SubElement(attribute, "RequiredLevel").text = (
            "required" if column.logical_name == primary else "none"
        )
        ET.SubElement(attribute, "IsCustomField").text = "1"
        if column.max_length:
            ET.SubElement(attribute, "MaxLength").text = str(column.max_length)
        if column.kind == "decimal":
            ET.SubElement(attribute, "Accuracy").text = str(column.precision)
        if column.kind in ("date", "datetime"):
            ET.SubElement(attribute, "Format").text = "date" if column.kind == "date" else "datetime"
            behavior = "DateOnly" if column.kind == "date" else "UserLocal"
            ET.SubElement(attribute, "DateTimeBehavior").text = behavior
        displays = ET.SubElement(attribute, "displaynames")
        ET.SubElement(displays, "displayname", description=column.label, languagecode=str(LANGUAGE))
    if key is not None:
        keys = ET.SubElement(info, "EntityKeys")
        entity_key = ET.SubElement(keys, "EntityKey")
        ET.SubElement(entity_key, "LogicalName").text = key.logical_name
        ET.SubElement(entity_key, "SchemaName").text = key.schema_name
        key_columns = ET.SubElement(entity_key, "EntityKeyAttributes")
        for name in key.columns:
            ET.SubElement(key_columns, "AttributeName").text = name


def _names(
    parent: ET.Element, text: str, outer: str = "LocalizedNames", inner: str = "LocalizedName"
) -> None:
    ET.SubElement(ET.SubElement(parent, outer), inner, description=text, languagecode=str(LANGUAGE))


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
