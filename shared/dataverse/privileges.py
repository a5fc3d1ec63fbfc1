"""Does the connector's Dynamics identity hold what it needs? WhoAmI → RetrieveUserPrivileges → compare.

Each missing privilege is named in words with the reason it is needed, so the customer can hand the list
to their Dynamics administrator. Invoice lines (invoicedetail) have no privileges of their own: Dataverse
checks the parent invoice's (reading lines needs Read Invoice). Depth (user / business unit / organisation)
is not judged here: RetrieveUserPrivileges reports it, but which depth suffices depends on who owns the
invoices, which only the customer knows.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.dataverse.client import DataverseClient
from shared.dataverse.install_plan import TABLES

# The role the app-only form asks the administrator to assign to the application user. Install creates
# tables, columns, a service endpoint and its steps: System Administrator holds all of these. Whether
# System Customizer also may register service endpoints is unverified, so the stricter role is named.
APP_USER_ROLE = "System Administrator"


@dataclass(frozen=True)
class MissingPrivilege:
    privilege: str  # Dataverse's name, e.g. prvWriteInvoice
    name: str  # in words, e.g. "Write Invoice"
    what_for: str

    def __str__(self) -> str:
        return f"{self.name} — {self.what_for}"


@dataclass(frozen=True)
class Needed:
    privilege: str
    name: str
    what_for: str


RUNTIME: tuple[Needed, ...] = (
    Needed("prvReadInvoice", "Read Invoice", "needed to read invoices and their lines to send them to Xero"),
    Needed("prvWriteInvoice", "Write Invoice", "needed to write the Xero number back on invoices"),
    Needed("prvReadProduct", "Read Product", "needed to send invoice lines with their products"),
    Needed("prvReadTransactionCurrency", "Read Currency", "needed to send invoices in their currency"),
    Needed("prvReadUser", "Read User", "needed to check the connector's own access in Dynamics"),
    Needed("prvReadAccount", "Read Account", "needed to send the invoice's customer to Xero"),
    Needed("prvWriteAccount", "Write Account", "needed to remember the customer's Xero contact on accounts"),
    Needed("prvReadContact", "Read Contact", "needed to send the invoice's customer to Xero"),
    Needed("prvWriteContact", "Write Contact", "needed to remember the customer's Xero contact on contacts"),
    *(
        Needed(f"prv{verb}{table.schema_name}", f"{verb} {table.label}", why.format(table.plural))
        for table in TABLES
        for verb, why in (
            ("Read", "needed to look up {}"),
            ("Create", "needed to copy {} into Dynamics"),
            ("Write", "needed to keep {} up to date"),
        )
    ),
)
INSTALL: tuple[Needed, ...] = (
    Needed("prvReadPublisher", "Read Publisher", "needed to find the connector's publisher (prefix dxc)"),
    Needed("prvCreatePublisher", "Create Publisher", "needed to add the connector's publisher"),
    Needed("prvReadSolution", "Read Solution", "needed to find the Xero Connector solution"),
    Needed("prvCreateSolution", "Create Solution", "needed to keep the connector's parts in one solution"),
    Needed("prvReadEntity", "Read Entity", "needed to see which tables and columns already exist"),
    Needed("prvCreateEntity", "Create Entity", "needed to add the connector's Xero tables"),
    Needed("prvCreateAttribute", "Create Attribute", "needed to add the Xero columns to invoices"),
    Needed("prvCreateEntityKey", "Create Entity Key", "needed to add the Xero id key to the Xero tables"),
    Needed("prvReadServiceEndpoint", "Read Service Endpoint", "needed to find the connector's webhook"),
    Needed("prvCreateServiceEndpoint", "Create Service Endpoint", "needed to register the webhook"),
    Needed("prvWriteServiceEndpoint", "Write Service Endpoint", "needed to update the connector's webhook"),
    Needed(
        "prvReadSdkMessageProcessingStep",
        "Read SDK Message Processing Step",
        "needed to find the webhook's invoice steps",
    ),
    Needed(
        "prvCreateSdkMessageProcessingStep",
        "Create SDK Message Processing Step",
        "needed to send saved invoices to the webhook",
    ),
    Needed(
        "prvWriteSdkMessageProcessingStep",
        "Write SDK Message Processing Step",
        "needed to repair the webhook's invoice steps",
    ),
    *(
        Needed(
            f"prv{verb}SdkMessageProcessingStepImage",
            f"{verb} SDK Message Processing Step Image",
            f"needed to {what} the image that tells which invoice a changed or deleted line belonged to",
        )
        for verb, what in (("Read", "find"), ("Create", "register"), ("Write", "repair"))
    ),
)


# When the admin imported the solution .zip (solution_package.py), the install only reads the definitions
# and registers the webhook: no privilege to create publishers, solutions, tables, columns or keys.
_CUSTOMISING = ("Publisher", "prvCreateSolution", "prvCreateEntity", "prvCreateAttribute")
WEBHOOK_ONLY: tuple[Needed, ...] = tuple(
    n for n in INSTALL if not any(part in n.privilege for part in _CUSTOMISING)
)


def check_privileges(client: DataverseClient, *, for_install: bool = False) -> list[MissingPrivilege]:
    """What the signed-in (or application) user lacks: for running the sync, or for Install into Dynamics."""
    me = client.whoami()
    held = {p.lower() for p in client.user_privileges(me.user_id)}
    needed = INSTALL if for_install else RUNTIME
    return [
        MissingPrivilege(n.privilege, n.name, n.what_for) for n in needed if n.privilege.lower() not in held
    ]
