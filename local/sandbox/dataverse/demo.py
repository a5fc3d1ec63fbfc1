"""Demo data for environment "contoso": currencies, a price list, customers and products chosen to hit
the awkward cases (an apostrophe, markup in a name, a product number over Xero's 30-character item code,
a name over Xero's 50-character item name) and two invoices with lines. Seeding twice changes nothing."""

from __future__ import annotations

from .metadata_model import metadata_id
from .store import EnvironmentState, Ref
from .system_rows import put

DEMO_ENVIRONMENT = "contoso"
LONG_PRODUCT_NUMBER = "CONSULT-SENIOR-ARCHITECT-HOURLY-RATE-040"  # 40 characters
LONG_PRODUCT_NAME = "Premium support subscription with 24/7 on-call engineer (1y)"  # 60 characters

ACCOUNTS = [
    (
        "Fabrikam Ltd",
        "FAB-001",
        "billing@fabrikam.example",
        "+44 20 7946 0001",
        "1 Fabrikam Way",
        "London",
        "EC1A 1AA",
        "United Kingdom",
    ),
    (
        "O'Brien & Sons",
        "OBR-002",
        "accounts@obrien.example",
        "+353 1 555 0102",
        "22 Quay Street",
        "Dublin",
        "D02 X285",
        "Ireland",
    ),
    (
        "<b>Bold</b> Traders",
        "BLD-003",
        "hello@bold.example",
        "+1 206 555 0103",
        "3 Market St",
        "Seattle",
        "98101",
        "United States",
    ),
    (
        "Northwind Traders",
        "NWT-004",
        "ap@northwind.example",
        "+1 425 555 0104",
        "4 Lake Rd",
        "Redmond",
        "98052",
        "United States",
    ),
    (
        "Adventure Works GmbH",
        "ADV-005",
        "rechnung@adventure.example",
        "+49 30 555 0105",
        "Hauptstraße 5",
        "Berlin",
        "10115",
        "Germany",
    ),
]
CONTACTS = [
    ("Ana", "Bauer", "ana.bauer@example.com"),
    ("Jo", "Müller", "jo.mueller@example.com"),
    ("Sam", "Lee", "sam.lee@example.com"),
]
PRODUCTS = [
    ("WIDGET-01", "Widget", 12.5, "A standard widget"),
    ("GADGET-02", "Gadget", 99.0, "A gadget with two buttons"),
    ("SVC-HOUR", "Consulting hour", 150.0, "One hour of consulting"),
    (LONG_PRODUCT_NUMBER, "Senior architect (hourly)", 240.0, "Product number longer than a Xero item code"),
    ("SUPPORT-1Y", LONG_PRODUCT_NAME, 1200.0, "Name longer than a Xero item name"),
    ("SHIP-STD", "Standard shipping", 9.95, None),
]


def demo_id(env: EnvironmentState, *parts: str) -> str:
    return metadata_id("demo", env.organization_id, *parts)


def seed(env: EnvironmentState) -> None:
    with env.lock:
        usd = metadata_id("currency", env.organization_id, "USD")
        eur = put(
            env,
            "transactioncurrency",
            demo_id(env, "EUR"),
            {
                "currencyname": "Euro",
                "isocurrencycode": "EUR",
                "currencysymbol": "€",
                "exchangerate": 0.92,
                "currencyprecision": 2,
            },
        )["transactioncurrencyid"]
        prices = put(
            env,
            "pricelevel",
            demo_id(env, "pricelist"),
            {"name": "Standard (USD)", "transactioncurrencyid": Ref(usd, "transactioncurrency")},
        )["pricelevelid"]
        unit = Ref(metadata_id("uom", env.organization_id, "Primary Unit"), "uom")
        accounts = [
            _account(env, values, eur if values[0].startswith("Adventure") else usd) for values in ACCOUNTS
        ]
        contacts = [
            put(
                env,
                "contact",
                demo_id(env, "contact", e),
                {"firstname": f, "lastname": la, "emailaddress1": e},
            )["contactid"]
            for f, la, e in CONTACTS
        ]
        products = [
            put(
                env,
                "product",
                demo_id(env, "product", number),
                {
                    "productnumber": number,
                    "name": name,
                    "price": price,
                    "description": text,
                    "defaultuomid": unit,
                    "pricelevelid": Ref(prices, "pricelevel"),
                },
            )["productid"]
            for number, name, price, text in PRODUCTS
        ]
        _price_list(env, prices, products, unit)
        _invoice(
            env,
            "INV-00001",
            "Widgets for Fabrikam",
            Ref(accounts[0], "account"),
            usd,
            prices,
            [(products[0], None, 10, None, 0.0, 2.5), (products[2], None, 3, None, 50.0, 40.0)],
            {},
        )
        _invoice(
            env,
            "INV-00002",
            "Support for Ana",
            Ref(contacts[0], "contact"),
            usd,
            prices,
            [(None, "Write-in: on-site visit", 1, 300.0, 0.0, 0.0), (products[4], None, 1, None, 0.0, 0.0)],
            {"discountamount": 100.0, "freightamount": 25.0, "duedate": "2030-01-31"},
        )


def _price_list(env: EnvironmentState, prices: str, products: list[str], unit: Ref) -> None:
    """Every product on the Standard price list at its list price; widgets bought by the box get
    1.50 off each from fifty (a volume discount list, as a long-used business sets them up)."""
    volume = put(env, "discounttype", demo_id(env, "discounttype", "widgets"),
                 {"name": "Widget volume", "isamounttype": True})["discounttypeid"]  # fmt: skip
    put(env, "discount", demo_id(env, "discount", "widgets", "50"),
        {"discounttypeid": Ref(volume, "discounttype"), "lowquantity": 50.0, "highquantity": 999999.0,
         "amount": 1.5})  # fmt: skip
    for product_id, (number, _name, price, _text) in zip(products, PRODUCTS, strict=True):
        values: dict[str, object] = {
            "productnumber": number,
            "pricelevelid": Ref(prices, "pricelevel"),
            "productid": Ref(product_id, "product"),
            "uomid": unit,
            "amount": price,
        }
        if number == "WIDGET-01":
            values["discounttypeid"] = Ref(volume, "discounttype")
        put(env, "productpricelevel", demo_id(env, "pricelistitem", number), values)


def _account(env: EnvironmentState, values: tuple[str, ...], currency: str) -> str:
    name, number, email, phone, line1, city, postcode, country = values
    return str(
        put(
            env,
            "account",
            demo_id(env, "account", number),
            {
                "name": name,
                "accountnumber": number,
                "emailaddress1": email,
                "telephone1": phone,
                "address1_line1": line1,
                "address1_city": city,
                "address1_postalcode": postcode,
                "address1_country": country,
                "transactioncurrencyid": Ref(currency, "transactioncurrency"),
            },
        )["accountid"]
    )


def _invoice(
    env: EnvironmentState,
    number: str,
    name: str,
    customer: Ref,
    currency: str,
    prices: str,
    lines: list[tuple[str | None, str | None, float, float | None, float, float]],
    extra: dict[str, object],
) -> None:
    invoice_id = put(
        env,
        "invoice",
        demo_id(env, "invoice", number),
        {
            "invoicenumber": number,
            "name": name,
            "customerid": customer,
            "transactioncurrencyid": Ref(currency, "transactioncurrency"),
            "pricelevelid": Ref(prices, "pricelevel"),
            **extra,
        },
    )["invoiceid"]
    for position, (product, write_in, quantity, price, discount, tax) in enumerate(lines, start=1):
        values: dict[str, object] = {
            "invoiceid": Ref(invoice_id, "invoice"),
            "quantity": float(quantity),
            "manualdiscountamount": discount,
            "tax": tax,
            "lineitemnumber": position,
        }
        if product:
            values["productid"] = Ref(product, "product")
        else:
            values.update(
                {"isproductoverridden": True, "productdescription": write_in, "priceperunit": price}
            )
        put(env, "invoicedetail", demo_id(env, "line", number, str(position)), values)
