"""Table, column and key definitions ↔ the JSON of EntityMetadata, AttributeMetadata (String, Memo,
DateTime, Boolean, Integer, Decimal, Money, Picklist…) and EntityKeyMetadata."""

from __future__ import annotations

from typing import Any

from . import errors
from .metadata_model import (
    BIGINT,
    BOOLEAN,
    CUSTOMER,
    DATETIME,
    DECIMAL,
    ENTITYNAME,
    INTEGER,
    LOOKUP,
    MEMO,
    MONEY,
    OWNER,
    PICKLIST,
    STATE,
    STATUS,
    STRING,
    UNIQUEID,
    AlternateKey,
    Attribute,
    Table,
    metadata_id,
)

CRM = "Microsoft.Dynamics.CRM."
# AttributeType -> (metadata type, AttributeTypeName)
_TYPES = {
    STRING: ("StringAttributeMetadata", "StringType"),
    MEMO: ("MemoAttributeMetadata", "MemoType"),
    INTEGER: ("IntegerAttributeMetadata", "IntegerType"),
    BIGINT: ("BigIntAttributeMetadata", "BigIntType"),
    DECIMAL: ("DecimalAttributeMetadata", "DecimalType"),
    MONEY: ("MoneyAttributeMetadata", "MoneyType"),
    BOOLEAN: ("BooleanAttributeMetadata", "BooleanType"),
    DATETIME: ("DateTimeAttributeMetadata", "DateTimeType"),
    LOOKUP: ("LookupAttributeMetadata", "LookupType"),
    CUSTOMER: ("LookupAttributeMetadata", "CustomerType"),
    OWNER: ("LookupAttributeMetadata", "OwnerType"),
    PICKLIST: ("PicklistAttributeMetadata", "PicklistType"),
    STATE: ("StateAttributeMetadata", "StateType"),
    STATUS: ("StatusAttributeMetadata", "StatusType"),
    UNIQUEID: ("UniqueIdentifierAttributeMetadata", "UniqueidentifierType"),
    ENTITYNAME: ("EntityNameAttributeMetadata", "EntityNameType"),
}
_CREATABLE = {STRING, MEMO, INTEGER, BIGINT, DECIMAL, MONEY, BOOLEAN, DATETIME, PICKLIST}
_BY_METADATA_TYPE = {meta: kind for kind, (meta, _n) in _TYPES.items() if kind in _CREATABLE}


def label(text: str) -> dict[str, Any]:
    localized = {"Label": text, "LanguageCode": 1033, "IsManaged": False}
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": localized}


def label_text(value: Any, default: str) -> str:
    if isinstance(value, dict):
        user = value.get("UserLocalizedLabel") or {}
        labels = value.get("LocalizedLabels") or [{}]
        return str(user.get("Label") or labels[0].get("Label") or default)
    return default


def entity_json(table: Table) -> dict[str, Any]:
    return {
        "@odata.type": f"#{CRM}EntityMetadata",
        "MetadataId": table.metadata_id,
        "LogicalName": table.logical_name,
        "SchemaName": table.schema_name,
        "EntitySetName": table.entity_set,
        "LogicalCollectionName": table.entity_set,
        "PrimaryIdAttribute": table.primary_id,
        "PrimaryNameAttribute": table.primary_name,
        "ObjectTypeCode": table.object_type_code,
        "DisplayName": label(table.display_name),
        "DisplayCollectionName": label(table.display_collection_name),
        "Description": label(table.description),
        "IsCustomEntity": table.is_custom,
        "IsManaged": False,
        "OwnershipType": table.ownership,
        "IsActivity": False,
        "HasActivities": False,
        "HasNotes": False,
        "IsValidForAdvancedFind": True,
    }


def attribute_json(table: Table, attribute: Attribute) -> dict[str, Any]:
    meta, type_name = _TYPES.get(attribute.type, ("AttributeMetadata", f"{attribute.type}Type"))
    body: dict[str, Any] = {
        "@odata.type": f"#{CRM}{meta}",
        "MetadataId": metadata_id("attribute", table.logical_name, attribute.logical_name),
        "LogicalName": attribute.logical_name,
        "SchemaName": attribute.schema_name,
        "EntityLogicalName": table.logical_name,
        "AttributeType": attribute.type,
        "AttributeTypeName": {"Value": type_name},
        "DisplayName": label(attribute.display_name),
        "RequiredLevel": {
            "Value": attribute.required,
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "IsCustomAttribute": attribute.is_custom,
        "IsPrimaryId": attribute.logical_name == table.primary_id,
        "IsPrimaryName": attribute.logical_name == table.primary_name,
        "IsValidForCreate": not attribute.computed,
        "IsValidForUpdate": not attribute.computed,
        "IsValidForRead": True,
        "IsManaged": False,
    }
    body.update(_type_details(attribute))
    return body


def _type_details(attribute: Attribute) -> dict[str, Any]:
    kind = attribute.type
    if kind in (STRING, MEMO):
        return {
            "MaxLength": attribute.max_length,
            "FormatName": {"Value": "Text" if kind == STRING else "TextArea"},
        }
    if kind in (DECIMAL, MONEY):
        return {
            "Precision": attribute.precision,
            "MinValue": attribute.min_value,
            "MaxValue": attribute.max_value,
        }
    if kind in (INTEGER, BIGINT):
        return {"MinValue": attribute.min_value, "MaxValue": attribute.max_value}
    if kind == DATETIME:
        behavior = "DateOnly" if attribute.date_only else "UserLocal"
        return {
            "Format": "DateOnly" if attribute.date_only else attribute.date_format,
            "DateTimeBehavior": {"Value": behavior},
        }
    if kind in (LOOKUP, CUSTOMER, OWNER):
        return {"Targets": list(attribute.targets)}
    if kind == BOOLEAN:
        return {
            "OptionSet": {
                "TrueOption": {"Value": 1, "Label": label(attribute.true_label)},
                "FalseOption": {"Value": 0, "Label": label(attribute.false_label)},
            }
        }
    if kind in (PICKLIST, STATE, STATUS):
        return {
            "OptionSet": {"Options": [{"Value": v, "Label": label(t)} for v, t in attribute.options.items()]}
        }
    return {}


def key_json(table: Table, key: AlternateKey) -> dict[str, Any]:
    return {
        "@odata.type": f"#{CRM}EntityKeyMetadata",
        "MetadataId": metadata_id("key", table.logical_name, key.logical_name),
        "LogicalName": key.logical_name,
        "SchemaName": key.schema_name,
        "DisplayName": label(key.display_name),
        "EntityLogicalName": table.logical_name,
        "KeyAttributes": list(key.attributes),
        "EntityKeyIndexStatus": key.index_status(),
        "IsManaged": False,
    }


def attribute_from_body(body: dict[str, Any]) -> Attribute:
    meta = str(body.get("@odata.type", "")).lstrip("#").removeprefix(CRM)
    kind = _BY_METADATA_TYPE.get(meta) or body.get("AttributeType")
    if kind not in _CREATABLE:
        raise errors.bad_payload(
            f"Creating a column of type '{meta or kind}' is not supported by the sandbox."
        )
    schema = body.get("SchemaName")
    if not isinstance(schema, str) or "_" not in schema:
        raise errors.validation(
            f"The schema name '{schema}' must start with a valid customization prefix (like dxc_).",
            code="0x80044355",
        )
    attribute = Attribute(
        schema.lower(),
        str(kind),
        schema_name=schema,
        display_name=label_text(body.get("DisplayName"), schema),
        is_custom=True,
        required=str((body.get("RequiredLevel") or {}).get("Value", "None")),
    )
    _read_type_details(attribute, body)
    return attribute


def _read_type_details(attribute: Attribute, body: dict[str, Any]) -> None:
    kind = attribute.type
    if kind in (STRING, MEMO):
        attribute.max_length = int(body.get("MaxLength") or (100 if kind == STRING else 2000))
    if kind in (DECIMAL, MONEY):
        precision = body.get("Precision")
        attribute.precision = int(precision) if precision is not None else 2
    if kind in (INTEGER, BIGINT, DECIMAL, MONEY):
        attribute.min_value = body.get("MinValue")
        attribute.max_value = body.get("MaxValue")
    if kind == DATETIME:
        behavior = (body.get("DateTimeBehavior") or {}).get("Value")
        attribute.date_only = behavior == "DateOnly"
    option_set = body.get("OptionSet") or {}
    if kind == BOOLEAN:
        attribute.true_label = label_text((option_set.get("TrueOption") or {}).get("Label"), "Yes")
        attribute.false_label = label_text((option_set.get("FalseOption") or {}).get("Label"), "No")
    if kind == PICKLIST:
        attribute.options = {
            int(o["Value"]): label_text(o.get("Label"), str(o["Value"]))
            for o in option_set.get("Options", [])
        }
