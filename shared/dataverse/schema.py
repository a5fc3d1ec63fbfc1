"""Names of what the connector adds to a Dynamics environment (publisher prefix `dxc`).

Install into Dynamics creates these; the invoice push writes the write-back columns; the webhook step
for invoice Update filters on every invoice column EXCEPT the write-back ones, so our own write-back
never fires the webhook again.
"""

from __future__ import annotations

PREFIX = "dxc"

# Columns added to the invoice table: the sync result the Dynamics user sees.
INVOICE_XERO_ID = "dxc_xeroinvoiceid"
INVOICE_XERO_NUMBER = "dxc_xeroinvoicenumber"
INVOICE_XERO_STATUS = "dxc_xerostatus"
INVOICE_XERO_URL = "dxc_xerourl"
INVOICE_SYNCED_ON = "dxc_syncedon"
INVOICE_SYNC_ERROR = "dxc_syncerror"
# Sent, but something to check (Xero's total differs from the Dynamics total, with its cause): apart from
# dxc_syncerror on purpose, since an error marks the invoice failed and makes the next save send it again.
INVOICE_SYNC_WARNING = "dxc_syncwarning"
# A digest of what was last sent to Xero: an event whose invoice maps to the same digest needs no Xero call
# (duplicate deliveries, our own write-back, changes to columns Xero does not carry).
INVOICE_SYNC_DIGEST = "dxc_syncdigest"
# What happened in Xero, written back by the Xero -> Dynamics path (shared/xero_inbound): the amounts, the
# date Xero recorded the invoice fully paid, and Xero's UpdatedDateUTC of what is shown (an older read of
# the same invoice never overwrites a newer one).
INVOICE_XERO_AMOUNT_PAID = "dxc_xeroamountpaid"
INVOICE_XERO_AMOUNT_DUE = "dxc_xeroamountdue"
INVOICE_XERO_PAID_ON = "dxc_xeropaidon"
INVOICE_XERO_UPDATED_AT = "dxc_xeroupdatedat"
INVOICE_WRITE_BACK_COLUMNS = (
    INVOICE_XERO_ID,
    INVOICE_XERO_NUMBER,
    INVOICE_XERO_STATUS,
    INVOICE_XERO_URL,
    INVOICE_SYNCED_ON,
    INVOICE_SYNC_ERROR,
    INVOICE_SYNC_WARNING,
    INVOICE_SYNC_DIGEST,
    INVOICE_XERO_AMOUNT_PAID,
    INVOICE_XERO_AMOUNT_DUE,
    INVOICE_XERO_PAID_ON,
    INVOICE_XERO_UPDATED_AT,
)
# A column the customer sets (eligibility rule "send to Xero"); it does fire the webhook.
INVOICE_SEND_TO_XERO = "dxc_sendtoxero"

# Column added to account and contact: the Xero contact they map to.
CUSTOMER_XERO_CONTACT_ID = "dxc_xerocontactid"

# Invoice columns whose change is worth a push (the Update step's filteringattributes). Totals are left out on
# purpose: Dynamics recalculates them after every line change, and the line's own event already covers it.
INVOICE_TRIGGER_COLUMNS = (
    "name",
    "invoicenumber",
    "customerid",
    "transactioncurrencyid",
    "datedelivered",
    "duedate",
    "discountamount",
    "discountpercentage",
    "freightamount",
    "statecode",
    "statuscode",
    "description",
    INVOICE_SEND_TO_XERO,
)

# Reference-data tables filled from Xero (entity logical names; the entity set adds an "s").
TAX_RATE_TABLE = "dxc_xerotaxrate"
ACCOUNT_CODE_TABLE = "dxc_xeroaccount"
BRANDING_THEME_TABLE = "dxc_xerobrandingtheme"
TRACKING_CATEGORY_TABLE = "dxc_xerotrackingcategory"
CURRENCY_TABLE = "dxc_xerocurrency"
SETTINGS_TABLE = "dxc_connectorsetting"
REFERENCE_TABLES = (
    TAX_RATE_TABLE,
    ACCOUNT_CODE_TABLE,
    BRANDING_THEME_TABLE,
    TRACKING_CATEGORY_TABLE,
    CURRENCY_TABLE,
)
# Every reference table has these columns and an alternate key on dxc_xeroid.
REFERENCE_ID_COLUMN = "dxc_xeroid"
REFERENCE_KEY_NAME = "dxc_xeroid_key"
