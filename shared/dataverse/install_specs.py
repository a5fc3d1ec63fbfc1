"""The building blocks of the install plan: column, key and table definitions that render themselves as
the metadata bodies the Web API takes (AttributeMetadata, EntityKeyMetadata, EntityMetadata)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

CRM = "Microsoft.Dynamics.CRM."
LANGUAGE = 1033
ColumnKind = Literal["string", "memo", "datetime", "date", "boolean", "decimal"]
_METADATA_TYPE = {
    "string": "StringAttributeMetadata",
    "memo": "MemoAttributeMetadata",
    "datetime": "DateTimeAttributeMetadata",
    "date": "DateTimeAttributeMetadata",
    "boolean": "BooleanAttributeMetadata",
    "decimal": "DecimalAttributeMetadata",
}
# AttributeType as EntityDefinitions reports it: how an existing column is compared with the plan.
ATTRIBUTE_TYPE = {
    "string": "String",
    "memo": "Memo",
    "datetime": "DateTime",
    "date": "DateTime",
    "boolean": "Boolean",
    "decimal": "Decimal",
}


def label(text: str) -> dict[str, Any]:
    return {
        "@odata.type": f"{CRM}Label",
        "LocalizedLabels": [{"@odata.type": f"{CRM}LocalizedLabel", "Label": text, "LanguageCode": LANGUAGE}],
    }


@dataclass(frozen=True)
class Column:
    schema_name: str
    kind: ColumnKind
    label: str
    description: str = ""
    max_length: int = 0  # string and memo
    precision: int = 0  # decimal

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    def metadata(self, primary_name: bool = False) -> dict[str, Any]:
        """An AttributeMetadata body for POST EntityDefinitions(…)/Attributes, or in a new table's body."""
        body: dict[str, Any] = {
            "@odata.type": f"{CRM}{_METADATA_TYPE[self.kind]}",
            "AttributeType": ATTRIBUTE_TYPE[self.kind],
            "AttributeTypeName": {"Value": f"{ATTRIBUTE_TYPE[self.kind]}Type"},
            "SchemaName": self.schema_name,
            "DisplayName": label(self.label),
            "Description": label(self.description or self.label),
            "RequiredLevel": {
                "Value": "ApplicationRequired" if primary_name else "None",
                "CanBeChanged": True,
            },
        }
        if primary_name:
            body["IsPrimaryName"] = True
        if self.kind == "string":
            body.update(
                MaxLength=self.max_length,
                FormatName={"Value": "Url" if "url" in self.logical_name else "Text"},
            )
        elif self.kind == "memo":
            body.update(MaxLength=self.max_length, Format="TextArea")
        elif self.kind == "datetime":
            body.update(Format="DateAndTime", DateTimeBehavior={"Value": "UserLocal"})
        elif self.kind == "date":  # a calendar date, the same for every user (Xero's dates have no time)
            body.update(Format="DateOnly", DateTimeBehavior={"Value": "DateOnly"})
        elif self.kind == "boolean":
            body.update(
                DefaultValue=False,
                OptionSet={
                    "TrueOption": {"Value": 1, "Label": label("Yes")},
                    "FalseOption": {"Value": 0, "Label": label("No")},
                },
            )
        elif self.kind == "decimal":
            body.update(Precision=self.precision, MinValue=-100_000_000_000.0, MaxValue=100_000_000_000.0)
        return body


@dataclass(frozen=True)
class Key:
    schema_name: str
    columns: tuple[str, ...]
    label: str

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    def metadata(self) -> dict[str, Any]:
        return {
            "SchemaName": self.schema_name,
            "DisplayName": label(self.label),
            "KeyAttributes": list(self.columns),
        }


@dataclass(frozen=True)
class Table:
    schema_name: str
    label: str
    plural: str
    description: str
    primary_name: Column
    columns: tuple[Column, ...]
    key: Key | None = None

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    def metadata(self) -> dict[str, Any]:
        """An EntityMetadata body for POST EntityDefinitions: the table with its primary name column."""
        return {
            "@odata.type": f"{CRM}EntityMetadata",
            "SchemaName": self.schema_name,
            "DisplayName": label(self.label),
            "DisplayCollectionName": label(self.plural),
            "Description": label(self.description),
            "OwnershipType": "OrganizationOwned",
            "HasActivities": False,
            "HasNotes": False,
            "IsActivity": False,
            "Attributes": [self.primary_name.metadata(primary_name=True)],
        }
