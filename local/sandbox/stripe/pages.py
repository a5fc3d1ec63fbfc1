"""The hosted pages a browser sees: Checkout (pay or go back) and the customer portal (card, plan,
invoices, cancel). Plain HTML; the field names follow Stripe's hosted Checkout (cardNumber,
billingCountry, billingPostalCode) so a browser test reads like one against the real page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from markupsafe import escape


def _date(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %B %Y") if ts else ""


def _money(cents: int, currency: str) -> str:
    return f"{currency.upper()} {cents / 100:,.2f}"


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><p><strong>Stripe stand-in</strong> (test mode)</p>{body}</body></html>"
    )


def checkout(
    session: dict[str, Any],
    product: dict[str, Any],
    price: dict[str, Any],
    email: str,
    trial_end: int | None,
    error: str,
) -> str:
    if session["status"] != "open":
        return _page("Checkout", "<h1>This checkout is complete.</h1>")
    trial = f"<p>Free until {_date(trial_end)}, then</p>" if trial_end else ""
    failure = f"<p role='alert' class='error'>{escape(error)}</p>" if error else ""
    return _page(
        f"Subscribe to {product['name']}",
        f"<h1>Subscribe to {escape(product['name'])}</h1>{trial}"
        f"<p id='price'>{_money(price['unit_amount'], price['currency'])} "
        f"per {price['recurring']['interval']}</p>"
        f"{failure}<form method='post'>"
        f"<label>Email <input name='email' type='email' value='{escape(email)}'></label>"
        "<label>Card number <input name='cardNumber' autocomplete='cc-number'></label>"
        "<label>Country <input name='billingCountry' value='US'></label>"
        "<label>ZIP <input name='billingPostalCode'></label>"
        "<button type='submit'>Subscribe</button></form>"
        f"<p><a href='/c/pay/{escape(session['id'])}/cancel'>Back</a></p>",
    )


def portal(
    portal_session: dict[str, Any],
    customer: dict[str, Any],
    subs: list[dict[str, Any]],
    products: dict[str, dict[str, Any]],
    invoices: list[dict[str, Any]],
    card: str | None,
    error: str,
) -> str:
    pid = escape(portal_session["id"])
    rows = []
    for sub in subs:
        item = sub["items"]["data"][0]
        name = products.get(item["price"]["product"], {}).get("name", item["price"]["product"])
        cancel = (
            f"<form method='post' action='/p/session/{pid}/cancel/{escape(sub['id'])}'>"
            "<button type='submit'>Cancel plan</button></form>"
            if sub["status"] != "canceled"
            else ""
        )
        rows.append(
            f"<li class='subscription'>{escape(name)} — {escape(sub['status'])}, "
            f"{_money(item['price']['unit_amount'], item['price']['currency'])} a month, "
            f"renews {_date(item['current_period_end'])}{cancel}</li>"
        )
    bills = "".join(
        f"<li>{escape(i['number'])}: {_money(i['amount_due'], i['currency'])} {escape(i['status'])}</li>"
        for i in invoices
    )
    failure = f"<p role='alert' class='error'>{escape(error)}</p>" if error else ""
    back = portal_session["return_url"]
    return _page(
        "Billing",
        f"<h1>Billing for {escape(customer['email'] or customer['id'])}</h1>{failure}"
        f"<h2>Plan</h2><ul>{''.join(rows) or '<li>No subscription</li>'}</ul>"
        f"<h2>Payment method</h2><p>{'Card ending ' + card[-4:] if card else 'No card on file'}</p>"
        f"<form method='post' action='/p/session/{pid}/card'>"
        "<label>Card number <input name='cardNumber'></label>"
        "<button type='submit'>Update card</button></form>"
        f"<h2>Invoices</h2><ul>{bills}</ul>"
        + (f"<p><a id='return' href='{escape(back)}'>Return</a></p>" if back else ""),
    )
