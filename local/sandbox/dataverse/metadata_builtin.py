"""The tables every environment starts with: the sales tables the connector reads, the tables it
registers webhooks through, and the system tables those point at. Column names, lengths, option values
and object type codes follow Dataverse's own definitions."""

from __future__ import annotations

from .metadata_columns import ACTIVE_INACTIVE, lookup, memo, money, new_table, s, state_status, system_columns
from .metadata_model import BOOLEAN, DATETIME, DECIMAL, INTEGER, UNIQUEID, Attribute, OneToMany, Table
from .metadata_plugins import plugin_tables
from .metadata_solutions import solution_tables

INVOICE_STATES = {0: "Active", 1: "Closed", 2: "Paid", 3: "Canceled"}
INVOICE_STATUSES = {
    1: (0, "New"),
    2: (0, "Partially Shipped"),
    4: (0, "Billed"),
    5: (0, "Booked (applies to services)"),
    6: (0, "Installed (applies to products)"),
    100001: (2, "Complete"),
    100002: (2, "Partial"),
    100003: (3, "Canceled"),
}
INVOICE_READ_ONLY_STATES = (2, 3)


def _sales_tables() -> list[Table]:
    invoice = new_table("invoice", "invoices", "name", 1090, "Invoice", schema_name="Invoice")
    for a in (
        s("name", 300),
        s("invoicenumber", 100),
        lookup("customerid", "account", "contact"),
        lookup("transactioncurrencyid", "transactioncurrency"),
        lookup("pricelevelid", "pricelevel"),
        Attribute("exchangerate", DECIMAL, precision=10, computed=True),
        money("totalamount", computed=True),
        money("totaltax", computed=True),
        money("totallineitemamount", computed=True),
        money("totallineitemdiscountamount", computed=True),
        money("totalamountlessfreight", computed=True),
        money("totaldiscountamount", computed=True),
        money("discountamount"),
        Attribute("discountpercentage", DECIMAL, precision=2, min_value=0, max_value=100),
        money("freightamount"),
        # Learn, invoice table reference (Dynamics 365 Sales): datedelivered is UserLocal with Format
        # DateOnly (stored in UTC: the user's local midnight, or the time an integration wrote), duedate is
        # DateOnly behaviour (a calendar date, "YYYY-MM-DD" in the Web API); neither can change behaviour.
        Attribute("datedelivered", DATETIME, date_format="DateOnly"),
        Attribute("duedate", DATETIME, date_only=True),
        memo("description", 2000),
        Attribute("ispricelocked", BOOLEAN),
    ):
        invoice.add(a)
    state_status(invoice, INVOICE_STATES, INVOICE_STATUSES)
    invoice.one_to_many["invoice_details"] = OneToMany("invoice_details", "invoicedetail", "invoiceid")

    line = new_table(
        "invoicedetail",
        "invoicedetails",
        "invoicedetailname",
        1091,
        "Invoice Product",
        schema_name="InvoiceDetail",
        privilege_name="Invoice",
        ownership="None",
    )
    for a in (
        s("invoicedetailname", 500),
        lookup("invoiceid", "invoice"),
        lookup("productid", "product"),
        lookup("uomid", "uom"),
        lookup("transactioncurrencyid", "transactioncurrency", computed=True),
        s("productdescription", 500),
        Attribute("quantity", DECIMAL, precision=5, min_value=-1e9, max_value=1e9),
        money("priceperunit"),
        money("manualdiscountamount"),
        money("tax"),
        # Learn, invoicedetail reference: the per-unit discount of the price list item's discount list for
        # this quantity; read-only, computed by Dynamics' pricing
        money("volumediscountamount", computed=True),
        money("baseamount", computed=True),
        money("extendedamount", computed=True),
        Attribute("isproductoverridden", BOOLEAN, true_label="Write-in", false_label="Existing"),
        Attribute("ispriceoverridden", BOOLEAN, true_label="Override price", false_label="Use default"),
        Attribute("lineitemnumber", INTEGER, min_value=0, max_value=1_000_000_000),
        memo("description", 2000),
    ):
        line.add(a)

    product = new_table("product", "products", "name", 1024, "Product", schema_name="Product")
    for a in (
        s("name", 100),
        s("productnumber", 100),
        money("price"),
        memo("description", 2000),
        lookup("defaultuomid", "uom"),
        lookup("pricelevelid", "pricelevel"),
        lookup("transactioncurrencyid", "transactioncurrency"),
    ):
        product.add(a)
    state_status(
        product,
        {0: "Active", 1: "Retired", 2: "Draft", 3: "Under Revision"},
        {1: (0, "Active"), 2: (1, "Retired"), 0: (2, "Draft"), 3: (3, "Under Revision")},
    )
    return [invoice, line, product]


def _address_columns() -> tuple[Attribute, ...]:
    """The first address of an account or contact, as Dataverse has it."""
    return (
        s("address1_line1", 250),
        s("address1_line2", 250),
        s("address1_line3", 250),
        s("address1_city", 80),
        s("address1_stateorprovince", 50),
        s("address1_postalcode", 20),
        s("address1_country", 80),
    )


def _customer_tables() -> list[Table]:
    account = new_table("account", "accounts", "name", 1, "Account", schema_name="Account")
    for a in (
        s("name", 160),
        s("accountnumber", 20),
        s("emailaddress1", 100),
        s("telephone1", 50),
        *_address_columns(),
        lookup("transactioncurrencyid", "transactioncurrency"),
    ):
        account.add(a)
    state_status(account, *ACTIVE_INACTIVE)
    contact = new_table("contact", "contacts", "fullname", 2, "Contact", schema_name="Contact")
    for a in (
        s("fullname", 160, computed=True),
        s("firstname", 50),
        s("lastname", 50),
        s("emailaddress1", 100),
        s("telephone1", 50),
        s("mobilephone", 50),
        *_address_columns(),
        lookup("parentcustomerid", "account", "contact"),
        lookup("transactioncurrencyid", "transactioncurrency"),
    ):
        contact.add(a)
    state_status(contact, *ACTIVE_INACTIVE)
    return [account, contact]


def _reference_tables() -> list[Table]:
    currency = new_table(
        "transactioncurrency",
        "transactioncurrencies",
        "currencyname",
        9105,
        "Currency",
        schema_name="TransactionCurrency",
        ownership="OrganizationOwned",
    )
    for a in (
        s("currencyname", 100),
        s("isocurrencycode", 5),
        s("currencysymbol", 10),
        Attribute("exchangerate", DECIMAL, precision=10),
        Attribute("currencyprecision", INTEGER),
    ):
        currency.add(a)
    state_status(currency, *ACTIVE_INACTIVE)
    price_list = new_table("pricelevel", "pricelevels", "name", 1022, "Price List", schema_name="PriceLevel")
    price_list.add(s("name", 100))
    price_list.add(lookup("transactioncurrencyid", "transactioncurrency"))
    state_status(price_list, *ACTIVE_INACTIVE)
    uom = new_table("uom", "uoms", "name", 1055, "Unit", schema_name="UoM", ownership="OrganizationOwned")
    uom.add(s("name", 100))
    uom.add(Attribute("quantity", DECIMAL, precision=5))
    unit = new_table(
        "businessunit",
        "businessunits",
        "name",
        10,
        "Business Unit",
        schema_name="BusinessUnit",
        ownership="BusinessOwned",
    )
    unit.add(s("name", 160))
    user = new_table(
        "systemuser", "systemusers", "fullname", 8, "User", schema_name="SystemUser", privilege_name="User"
    )
    for a in (
        s("fullname", 200),
        s("domainname", 1024),
        s("internalemailaddress", 100),
        Attribute("azureactivedirectoryobjectid", UNIQUEID),
        Attribute("applicationid", UNIQUEID),
        lookup("businessunitid", "businessunit"),
        Attribute("isdisabled", BOOLEAN),
    ):
        user.add(a)
    return [currency, price_list, uom, unit, user, *_price_list_tables(), *_time_zone_tables()]


def _price_list_tables() -> list[Table]:
    """Learn, productpricelevel / discounttype / discount table references: a price list item gives a
    product's price (amount) in a price list for a unit, optionally with a discount list whose bands
    (lowquantity..highquantity) take an amount or a percentage off each unit."""
    item = new_table(
        "productpricelevel", "productpricelevels", "productnumber", 1026, "Price List Item",
        schema_name="ProductPriceLevel", ownership="OrganizationOwned",
    )  # fmt: skip
    for a in (
        s("productnumber", 100),
        lookup("pricelevelid", "pricelevel"),
        lookup("productid", "product"),
        lookup("uomid", "uom"),
        lookup("discounttypeid", "discounttype"),
        money("amount"),
    ):
        item.add(a)
    discount_list = new_table(
        "discounttype", "discounttypes", "name", 1080, "Discount List", schema_name="DiscountType",
        ownership="OrganizationOwned",
    )  # fmt: skip
    discount_list.add(s("name", 100))
    discount_list.add(Attribute("isamounttype", BOOLEAN, true_label="Amount", false_label="Percentage"))
    band = new_table(
        "discount", "discounts", "discountid", 1013, "Discount", schema_name="Discount",
        ownership="OrganizationOwned",
    )  # fmt: skip
    for a in (
        lookup("discounttypeid", "discounttype"),
        Attribute("lowquantity", DECIMAL, precision=5, min_value=0, max_value=1e9),
        Attribute("highquantity", DECIMAL, precision=5, min_value=0, max_value=1e9),
        money("amount"),
        Attribute("percentage", DECIMAL, precision=2, min_value=0, max_value=100),
    ):
        band.add(a)
    return [item, discount_list, band]


def _time_zone_tables() -> list[Table]:
    """Learn, usersettings and timezonedefinition table references: a user's time zone is
    usersettings.timezonecode (keyed by systemuserid; entity set usersettingscollection), and
    timezonedefinition names each code (standardname is the Windows time zone id)."""
    settings = Table(
        "usersettings",
        "usersettingscollection",
        "systemuserid",
        "systemuserid",
        150,
        schema_name="UserSettings",
        display_name="User Settings",
        ownership="UserOwned",
    )
    system_columns(settings)
    settings.add(Attribute("timezonecode", INTEGER, min_value=-1, max_value=2147483647))
    zone = new_table(
        "timezonedefinition",
        "timezonedefinitions",
        "standardname",
        4810,
        "Time Zone Definition",
        schema_name="TimeZoneDefinition",
        ownership="OrganizationOwned",
    )
    for a in (
        Attribute("timezonecode", INTEGER, min_value=0, max_value=2147483647),
        s("standardname", 100),
        s("userinterfacename", 100),
        Attribute("bias", INTEGER, min_value=-1500, max_value=1500),
    ):
        zone.add(a)
    return [settings, zone]


def builtin_tables() -> list[Table]:
    return _sales_tables() + _customer_tables() + _reference_tables() + plugin_tables() + solution_tables()
