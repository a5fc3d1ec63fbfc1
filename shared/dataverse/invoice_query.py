"""The one Dataverse GET per push: the invoice with its lines, their products, its customer and currency.

One request instead of one per line keeps the push inside Dataverse's service-protection limits and makes
the mapping a pure function of a single JSON document. The column lists are public so the local Dataverse
sandbox and the tests can build the same document.
"""

from __future__ import annotations

from shared.dataverse import schema
from shared.dataverse.values import is_guid

_ADDRESS = tuple(
    f"address1_{part}"
    for part in ("line1", "line2", "line3", "city", "stateorprovince", "postalcode", "country")
)

INVOICE_COLUMNS: tuple[str, ...] = (
    "invoiceid",
    "name",
    "invoicenumber",
    "description",
    "_customerid_value",
    "_transactioncurrencyid_value",
    "datedelivered",
    "duedate",
    "createdon",
    "discountamount",
    "discountpercentage",
    "freightamount",
    "totallineitemamount",
    "totaldiscountamount",
    "totalamount",
    "totaltax",
    "statecode",
    "statuscode",
    "versionnumber",
    schema.INVOICE_SEND_TO_XERO,
    *schema.INVOICE_WRITE_BACK_COLUMNS,
)
ACCOUNT_COLUMNS: tuple[str, ...] = (
    "accountid",
    "name",
    "accountnumber",
    "emailaddress1",
    "telephone1",
    *_ADDRESS,
    schema.CUSTOMER_XERO_CONTACT_ID,
)
CONTACT_COLUMNS: tuple[str, ...] = (
    "contactid",
    "fullname",
    "firstname",
    "lastname",
    "emailaddress1",
    "telephone1",
    "mobilephone",
    *_ADDRESS,
    schema.CUSTOMER_XERO_CONTACT_ID,
)
CURRENCY_COLUMNS: tuple[str, ...] = ("isocurrencycode",)
LINE_COLUMNS: tuple[str, ...] = (
    "invoicedetailid",
    "lineitemnumber",
    "_productid_value",
    "productdescription",
    "isproductoverridden",
    "quantity",
    "priceperunit",
    "manualdiscountamount",
    "volumediscountamount",
    "baseamount",
    "tax",
    "extendedamount",
    "_uomid_value",
)
PRODUCT_COLUMNS: tuple[str, ...] = ("productid", "productnumber", "name", "description", "price")


def invoice_query(invoice_id: str) -> str:
    """Relative URL (to `{org}/api/data/v9.2/`) of the invoice document the mapping reads."""
    return f"invoices({_checked(invoice_id)})?{_document_options()}"


def invoices_query(filter_: str, top: int, orderby: str = "invoiceid") -> str:
    """Relative URL of up to `top` invoice documents (the same document as invoice_query's, so one
    mapping serves both) matching an OData $filter: the backfill reads a page of them in one GET."""
    return f"invoices?{_document_options()}&$filter={filter_}&$orderby={orderby}&$top={int(top)}"


def _document_options() -> str:
    lines = (
        f"invoice_details($select={_list(LINE_COLUMNS)};$expand=productid($select={_list(PRODUCT_COLUMNS)}))"
    )
    expands = (
        f"customerid_account($select={_list(ACCOUNT_COLUMNS)})",
        f"customerid_contact($select={_list(CONTACT_COLUMNS)})",
        f"transactioncurrencyid($select={_list(CURRENCY_COLUMNS)})",
        lines,
    )
    return f"$select={_list(INVOICE_COLUMNS)}&$expand={','.join(expands)}"


def line_query(line_id: str) -> str:
    """Relative URL that finds a line's invoice (used when a too-big webhook body lost the invoice id)."""
    return f"invoicedetails({_checked(line_id)})?$select=_invoiceid_value"


def _checked(row_id: str) -> str:
    # The id is pasted into a URL: anything but a GUID could change which request is made.
    if not is_guid(row_id):
        raise ValueError(f"not a GUID: {row_id!r}")
    return row_id.lower()


def _list(columns: tuple[str, ...]) -> str:
    return ",".join(columns)
