"""A connection's sync defaults, chosen by the customer on the connection page and stored with it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    AUTHORISED = "AUTHORISED"


class Numbering(StrEnum):
    XERO = "xero"  # Xero assigns the next number; the Dynamics number goes to Reference
    DYNAMICS = "dynamics"  # the Dynamics invoice number becomes the Xero InvoiceNumber


class TaxMode(StrEnum):
    EXCLUSIVE = "Exclusive"
    INCLUSIVE = "Inclusive"
    NO_TAX = "NoTax"


@dataclass(frozen=True)
class SyncSettings:
    time_zone: str = "UTC"  # IANA name; Dynamics keeps UTC, Xero dates are local calendar dates
    # False until the customer saves the defaults: until then install may propose the Dynamics user's zone
    time_zone_chosen: bool = False
    invoice_status: InvoiceStatus = InvoiceStatus.DRAFT
    numbering: Numbering = Numbering.DYNAMICS
    tax_mode: TaxMode = TaxMode.EXCLUSIVE
    create_missing_contacts: bool = True
    create_missing_items: bool = True
    default_account_code: str = "200"
    default_tax_type: str = ""  # empty: let Xero apply the account's default tax type
    branding_theme_id: str = ""
    # Days to pay when Dynamics gives the invoice no due date and neither the Xero contact nor the
    # organisation has sales payment terms (Xero requires one on an approved invoice).
    default_due_days: int = 30
    # Eligibility: only invoices whose connector column dxc_sendtoxero is true are pushed when set.
    require_send_flag: bool = False
    # Xero -> Dynamics: close the Dynamics invoice as Paid once Xero says PAID (shared/xero_inbound).
    close_paid_invoices: bool = False
