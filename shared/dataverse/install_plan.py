"""What Install into Dynamics puts into an environment, as data: columns, tables, keys, webhook steps.

install.py compares this plan with what the environment already has and creates only what is missing, so
the same plan serves a first install, a repair and an upgrade. Logical names come from schema.py; the
schema names here are the same names in CamelCase (Dataverse lower-cases them into logical names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from shared.dataverse import schema
from shared.dataverse.install_specs import ATTRIBUTE_TYPE, Column, Key, Table

__all__ = [
    "ATTRIBUTE_TYPE",
    "COLUMNS_BY_TABLE",
    "ENDPOINT_NAME",
    "STEPS",
    "Image",
    "TABLES",
    "Column",
    "Key",
    "Step",
    "Table",
]


def _text(schema_name: str, text: str, max_length: int = 100, description: str = "") -> Column:
    return Column(schema_name, "string", text, description, max_length=max_length)


# Columns on built-in tables: the sync result on invoice, and the Xero contact on account and contact.
INVOICE_COLUMNS = (
    _text("dxc_XeroInvoiceId", "Xero invoice id", 100, "The invoice's InvoiceID in Xero."),
    _text("dxc_XeroInvoiceNumber", "Xero invoice number", 255, "The invoice number Xero gave the invoice."),
    _text("dxc_XeroStatus", "Xero status", 50, "DRAFT, SUBMITTED, AUTHORISED, PAID or VOIDED, as last seen."),
    _text("dxc_XeroUrl", "Open in Xero", 500, "A link to the invoice in Xero."),
    Column("dxc_SyncedOn", "datetime", "Sent to Xero on", "When the connector last sent it to Xero."),
    Column("dxc_SyncError", "memo", "Xero sync error", "Why the last send failed.", max_length=4000),
    Column(
        "dxc_SyncWarning",
        "memo",
        "Xero sync warning",
        "Sent, but worth a look (e.g. Xero's total differs).",
        max_length=4000,
    ),
    Column("dxc_SendToXero", "boolean", "Send to Xero", "Set to Yes to send this invoice to Xero."),
    _text("dxc_SyncDigest", "Xero sync digest", 100, "A digest of what was last sent (connector use)."),
    Column("dxc_XeroAmountPaid", "decimal", "Paid in Xero", "What Xero records as paid.", precision=2),
    Column("dxc_XeroAmountDue", "decimal", "Due in Xero", "What Xero says is still owed.", precision=2),
    Column("dxc_XeroPaidOn", "date", "Fully paid on (Xero)", "When Xero recorded it fully paid."),
    _text("dxc_XeroUpdatedAt", "Xero changed at", 40, "Xero's UpdatedDateUTC (connector use)."),
)
CUSTOMER_COLUMN = _text(
    "dxc_XeroContactId", "Xero contact id", 100, "The ContactID this customer has in Xero."
)
COLUMNS_BY_TABLE: dict[str, tuple[Column, ...]] = {
    "invoice": INVOICE_COLUMNS,
    "account": (CUSTOMER_COLUMN,),
    "contact": (CUSTOMER_COLUMN,),
}

_REFERENCE_COMMON = (
    _text("dxc_XeroId", "Xero id", 100, "The record's id in Xero (or its code where Xero has no id)."),
    _text("dxc_Code", "Code", 100),
    _text("dxc_Status", "Status", 50),
    Column("dxc_IsActive", "boolean", "Active in Xero"),
)
_REFERENCE_EXTRA: dict[str, tuple[Column, ...]] = {
    schema.TAX_RATE_TABLE: (
        Column("dxc_Rate", "decimal", "Rate (%)", "The effective tax rate, in percent.", precision=4),
        _text("dxc_TaxType", "Tax type", 50),
    ),
    schema.ACCOUNT_CODE_TABLE: (
        _text("dxc_AccountType", "Account type", 50),
        _text("dxc_TaxType", "Default tax type", 50),
    ),
    schema.BRANDING_THEME_TABLE: (),
    schema.TRACKING_CATEGORY_TABLE: (
        Column(
            "dxc_Options", "memo", "Options", "The category's active options, one per line.", max_length=4000
        ),
    ),
    schema.CURRENCY_TABLE: (_text("dxc_Description", "Description", 200),),
}
_REFERENCE_LABELS = {
    schema.TAX_RATE_TABLE: ("dxc_XeroTaxRate", "Xero tax rate", "Xero tax rates"),
    schema.ACCOUNT_CODE_TABLE: ("dxc_XeroAccount", "Xero account", "Xero accounts"),
    schema.BRANDING_THEME_TABLE: ("dxc_XeroBrandingTheme", "Xero branding theme", "Xero branding themes"),
    schema.TRACKING_CATEGORY_TABLE: (
        "dxc_XeroTrackingCategory",
        "Xero tracking category",
        "Xero tracking categories",
    ),
    schema.CURRENCY_TABLE: ("dxc_XeroCurrency", "Xero currency", "Xero currencies"),
}


def _reference_table(logical_name: str) -> Table:
    schema_name, singular, plural = _REFERENCE_LABELS[logical_name]
    return Table(
        schema_name,
        singular,
        plural,
        f"{plural}, copied from Xero by the connector. Read-only.",
        primary_name=_text("dxc_Name", "Name", 200),
        columns=_REFERENCE_COMMON + _REFERENCE_EXTRA[logical_name],
        key=Key("dxc_XeroId_Key", (schema.REFERENCE_ID_COLUMN,), "Xero id"),
    )


SETTINGS = Table(
    "dxc_ConnectorSetting",
    "Xero connector setting",
    "Xero connector settings",
    "Settings of the Dynamics 365 to Xero connector, one row per setting.",
    primary_name=_text("dxc_Name", "Name", 200),
    columns=(
        Column("dxc_Value", "memo", "Value", max_length=4000),
        Column("dxc_Description", "memo", "Description", max_length=2000),
    ),
    key=Key("dxc_Name_Key", ("dxc_name",), "Setting name"),
)
TABLES: tuple[Table, ...] = (*(_reference_table(name) for name in schema.REFERENCE_TABLES), SETTINGS)


@dataclass(frozen=True)
class Image:
    """An entity image a step registers (sdkmessageprocessingstepimage). Dataverse sends images only when
    a step registers them, with the columns listed (Learn, "Understand the execution context" → "Entity
    images"; the "Use webhooks" samples carry none): a Delete's Target is a bare EntityReference and an
    Update's holds only the changed columns, so the invoice a line belongs to must come from an image."""

    kind: Literal["PreImage", "PostImage"]
    columns: tuple[str, ...]

    @property
    def image_type(self) -> int:
        return 0 if self.kind == "PreImage" else 1

    def row(self, step_id: str) -> dict[str, Any]:
        return {
            "name": self.kind,
            "entityalias": self.kind,
            "imagetype": self.image_type,
            "messagepropertyname": "Target",  # Update and Delete (Create's would be "Id")
            "attributes": ",".join(self.columns),
            "description": "The invoice this line belongs to, for the Dynamics 365 to Xero connector.",
            "sdkmessageprocessingstepid@odata.bind": f"/sdkmessageprocessingsteps({step_id})",
        }


@dataclass(frozen=True)
class Step:
    message: Literal["Create", "Update", "Delete"]
    table: str
    filtering_attributes: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()

    @property
    def name(self) -> str:
        return f"{ENDPOINT_NAME}: {self.message} of {self.table}"

    def row(self, endpoint_id: str, message_id: str, filter_id: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": "Sends the change to the Dynamics 365 to Xero connector.",
            "stage": 40,  # post-operation: the change is committed
            "mode": 1,  # asynchronous: the user's save never waits for the connector
            "rank": 1,
            "asyncautodelete": True,
            "supporteddeployment": 0,  # server only
            "filteringattributes": ",".join(self.filtering_attributes) or None,
            "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint_id})",
            "sdkmessageid@odata.bind": f"/sdkmessages({message_id})",
            "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({filter_id})",
        }


ENDPOINT_NAME = "Dynamics Xero Connector"
# Every component is created inside one unmanaged solution of the connector's own publisher, whose
# customization prefix is schema.PREFIX (Learn, "Create a solution publisher"; components created without
# MSCRM.SolutionUniqueName land only in the Default Solution, where an admin can neither export nor remove
# them as one).
SOLUTION = "XeroConnector"
SOLUTION_LABEL = "Xero Connector"
PUBLISHER = "dxcconnector"
PUBLISHER_LABEL = "Dynamics Xero Connector"
OPTION_VALUE_PREFIX = 72838  # any of 10000-99999; the publisher's choice values start with it
# The Update step lists the columns worth a push: the write-back columns are left out, so the connector's
# own write-back never fires the webhook again. A line's Create carries its invoiceid in the Target (the
# column is required); its Update and Delete do not, so those steps register an image of just that column.
# A line's invoiceid may itself be updated (invoicedetail.InvoiceId is not marked IsValidForUpdate False in
# the InvoiceDetail entity reference): the line moves to another invoice, and only the Update's pre-image
# still names the invoice it left, which must lose the line in Xero too.
STEPS: tuple[Step, ...] = (
    Step("Create", "invoice"),
    Step("Update", "invoice", schema.INVOICE_TRIGGER_COLUMNS),
    Step("Create", "invoicedetail"),
    Step(
        "Update",
        "invoicedetail",
        images=(Image("PreImage", ("invoiceid",)), Image("PostImage", ("invoiceid",))),
    ),
    Step("Delete", "invoicedetail", images=(Image("PreImage", ("invoiceid",)),)),
)


def endpoint_name(connection_id: str = "") -> str:
    """Each connection registers a webhook of its own, named by it (issue 16: with one fixed name, a second
    connection installed into the same environment overwrote the first one's key and took its events).
    Without a connection id: the name every connection shared before."""
    return f"{ENDPOINT_NAME} {connection_id}" if connection_id else ENDPOINT_NAME


def endpoint_row(url: str, connection_id: str = "") -> dict[str, Any]:
    """The webhook registration without its key (authvalue is written separately, never read back)."""
    return {
        "name": endpoint_name(connection_id),
        "description": "Invoices saved in Dynamics 365 are sent to Xero by this connector.",
        "contract": 8,  # Webhook
        "authtype": 4,  # WebhookKey: Dataverse appends ?code=<key>
        "messageformat": 2,  # Json
        "url": url,
    }
