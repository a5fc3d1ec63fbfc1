"""Table definitions the generic entity store works from: columns with types, navigation properties,
alternate keys. Built-in tables and tables created through EntityDefinitions share this model."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

_NAMESPACE = uuid.UUID("0b7c1f3e-2a55-4f0e-8d1d-3c6a9e5b7f10")

# Attribute types as EntityDefinitions reports them (AttributeType).
STRING, MEMO, INTEGER, BIGINT, DECIMAL, MONEY = "String", "Memo", "Integer", "BigInt", "Decimal", "Money"
BOOLEAN, DATETIME, LOOKUP, CUSTOMER, OWNER = "Boolean", "DateTime", "Lookup", "Customer", "Owner"
PICKLIST, STATE, STATUS, UNIQUEID, ENTITYNAME = (
    "Picklist",
    "State",
    "Status",
    "Uniqueidentifier",
    "EntityName",
)
LOOKUP_TYPES = (LOOKUP, CUSTOMER, OWNER)
OPTION_TYPES = (PICKLIST, STATE, STATUS)
NUMBER_TYPES = (INTEGER, BIGINT, DECIMAL, MONEY)


def metadata_id(*parts: str) -> str:
    """Stable MetadataIds, so a definition keeps its id across restarts like a real one does."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


@dataclass
class Attribute:
    logical_name: str
    type: str
    schema_name: str = ""
    display_name: str = ""
    targets: tuple[str, ...] = ()  # lookups: tables the value may point at
    max_length: int | None = None
    options: dict[int, str] = field(default_factory=dict)  # picklist/state/status labels
    precision: int = 2
    min_value: float | None = None
    max_value: float | None = None
    date_only: bool = False  # DateTimeBehavior DateOnly: answered as YYYY-MM-DD
    date_format: str = "DateAndTime"  # Format: a UserLocal column may show only the date (DateOnly)
    computed: bool = False  # system-calculated: writes are ignored, like Dataverse's IsValidForCreate=false
    is_custom: bool = False
    required: str = "None"
    status_state: dict[int, int] = field(default_factory=dict)  # statuscode -> statecode
    default_status: dict[int, int] = field(default_factory=dict)  # statecode -> default statuscode
    true_label: str = "Yes"
    false_label: str = "No"

    def __post_init__(self) -> None:
        self.schema_name = self.schema_name or self.logical_name
        self.display_name = self.display_name or self.logical_name

    @property
    def is_lookup(self) -> bool:
        return self.type in LOOKUP_TYPES

    @property
    def value_property(self) -> str:
        """The Web API property that carries this column (`_customerid_value` for lookups)."""
        return f"_{self.logical_name}_value" if self.is_lookup else self.logical_name


@dataclass
class ManyToOne:
    """A single-valued navigation property: the lookup column `attribute` pointing at `target`."""

    name: str
    attribute: str
    target: str


@dataclass
class OneToMany:
    """A collection-valued navigation property: rows of `table` whose `attribute` points here."""

    name: str
    table: str
    attribute: str


@dataclass
class AlternateKey:
    logical_name: str
    attributes: tuple[str, ...]
    schema_name: str = ""
    display_name: str = ""
    is_custom: bool = True
    # Learn, "Define alternate keys" / EntityKeyIndexStatus: a new key's index is built by a background job,
    # Pending → InProgress → Active, or Failed; it serves upserts only once Active. Wall clock, so that
    # keys saved by a persisted sandbox stay Active after a restart.
    ready_at: float = 0.0
    failed: bool = False

    def __post_init__(self) -> None:
        self.schema_name = self.schema_name or self.logical_name
        self.display_name = self.display_name or self.logical_name

    def index_status(self, created_at: float | None = None) -> str:
        if self.failed:
            return "Failed"
        now = time.time()
        if now >= self.ready_at:
            return "Active"
        return "Pending" if created_at is None or now < (created_at + self.ready_at) / 2 else "InProgress"


@dataclass
class Table:
    logical_name: str
    entity_set: str
    primary_id: str
    primary_name: str
    object_type_code: int
    schema_name: str = ""
    display_name: str = ""
    display_collection_name: str = ""
    description: str = ""
    is_custom: bool = False
    ownership: str = "UserOwned"
    privilege_name: str = ""  # the part after prvRead...: "Invoice"; invoicedetail uses its parent's
    attributes: dict[str, Attribute] = field(default_factory=dict)
    many_to_one: dict[str, ManyToOne] = field(default_factory=dict)
    one_to_many: dict[str, OneToMany] = field(default_factory=dict)
    keys: dict[str, AlternateKey] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.schema_name = self.schema_name or self.logical_name
        self.display_name = self.display_name or self.logical_name
        self.display_collection_name = self.display_collection_name or self.display_name + "s"
        self.privilege_name = self.privilege_name or self.schema_name

    @property
    def metadata_id(self) -> str:
        return metadata_id("entity", self.logical_name)

    def add(self, attribute: Attribute) -> Attribute:
        self.attributes[attribute.logical_name] = attribute
        if attribute.is_lookup:
            for target in attribute.targets:
                name = attribute.logical_name
                nav = f"{name}_{target}" if len(attribute.targets) > 1 else name
                self.many_to_one[nav] = ManyToOne(nav, name, target)
        return attribute

    def attribute_by_property(self, prop: str) -> Attribute | None:
        """The column behind a Web API property name (`name`, or `_customerid_value`)."""
        if prop.startswith("_") and prop.endswith("_value"):
            found = self.attributes.get(prop[1:-6])
            return found if found and found.is_lookup else None
        found = self.attributes.get(prop)
        return found if found and not found.is_lookup else None

    def nav_for(self, attribute: str, target: str) -> str:
        return next(
            n.name for n in self.many_to_one.values() if n.attribute == attribute and n.target == target
        )

    @property
    def type_name(self) -> str:
        return f"Microsoft.Dynamics.CRM.{self.logical_name}"
