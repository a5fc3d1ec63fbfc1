"""The stand-in's HTTP surface: the /v1 API the product calls (Bearer secret key, form bodies, JSON
answers, Stripe's error shape, Idempotency-Key replays), the hosted Checkout and portal pages, and
/_sandbox control routes for tests (renew a subscription, move the clock, list events)."""

from __future__ import annotations

import copy
import hmac
import json
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local.sandbox.stripe import forms, pages, resources
from local.sandbox.stripe.state import StripeError, StripeState

Handler = Callable[[StripeState, Request, dict[str, Any], dict[str, str]], Any]

API_ROUTES: dict[str, tuple[str, Handler]] = {
    "customer_create": ("POST", lambda s, r, p, a: s.create_customer(p)),
    "customer_get": ("GET", lambda s, r, p, a: s.customer(a["id"])),
    "customer_update": ("POST", lambda s, r, p, a: s.update_customer(a["id"], p)),
    "product_create": ("POST", lambda s, r, p, a: s.create_product(p)),
    "product_get": ("GET", lambda s, r, p, a: s.product(a["id"])),
    "price_create": ("POST", lambda s, r, p, a: s.create_price(p)),
    "price_get": ("GET", lambda s, r, p, a: s.price(a["id"])),
    "price_list": ("GET", lambda s, r, p, a: resources.list_of(s.list_prices(p), "/v1/prices")),
    "session_create": ("POST", lambda s, r, p, a: s.create_checkout_session(p)),
    "session_get": ("GET", lambda s, r, p, a: s.session(a["id"])),
    "portal_create": ("POST", lambda s, r, p, a: s.create_portal_session(p)),
    "subscription_get": ("GET", lambda s, r, p, a: s.subscription(a["id"])),
    "subscription_list": (
        "GET",
        lambda s, r, p, a: resources.list_of(s.list_subscriptions(p), "/v1/subscriptions"),
    ),
    "subscription_update": ("POST", lambda s, r, p, a: s.update_subscription(a["id"], p)),
    "subscription_cancel": ("DELETE", lambda s, r, p, a: s.cancel_subscription(a["id"])),
}

# The parameters each call accepts (a subset of Stripe's, those the product sends and a few more); Stripe
# refuses any other with `parameter_unknown` (https://docs.stripe.com/error-codes#parameter-unknown).
_CUSTOMER = {"email", "name", "metadata", "address", "description"}
ACCEPTED: dict[str, set[str]] = {
    "customer_create": _CUSTOMER,
    "customer_update": _CUSTOMER,
    "product_create": {"id", "name", "description", "metadata"},
    "price_create": {
        "product",
        "currency",
        "unit_amount",
        "recurring",
        "lookup_key",
        "transfer_lookup_key",
        "tax_behavior",
        "metadata",
        "nickname",
    },
    "price_list": {"lookup_keys", "active", "product", "limit"},
    "session_create": {
        "mode",
        "customer",
        "customer_email",
        "client_reference_id",
        "line_items",
        "success_url",
        "cancel_url",
        "automatic_tax",
        "customer_update",
        "tax_id_collection",
        "subscription_data",
        "metadata",
        "billing_address_collection",
        "allow_promotion_codes",
        "locale",
    },
    "portal_create": {"customer", "return_url", "configuration", "locale"},
    "subscription_list": {"customer", "status", "limit", "price"},
    "subscription_update": {"items", "proration_behavior", "cancel_at_period_end", "metadata"},
}

URLS = Map(
    [
        Rule("/v1/customers", endpoint="customer_create", methods=["POST"]),
        Rule("/v1/customers/<id>", endpoint="customer_get", methods=["GET"]),
        Rule("/v1/customers/<id>", endpoint="customer_update", methods=["POST"]),
        Rule("/v1/products", endpoint="product_create", methods=["POST"]),
        Rule("/v1/products/<id>", endpoint="product_get", methods=["GET"]),
        Rule("/v1/prices", endpoint="price_create", methods=["POST"]),
        Rule("/v1/prices", endpoint="price_list", methods=["GET"]),
        Rule("/v1/prices/<id>", endpoint="price_get", methods=["GET"]),
        Rule("/v1/checkout/sessions", endpoint="session_create", methods=["POST"]),
        Rule("/v1/checkout/sessions/<id>", endpoint="session_get", methods=["GET"]),
        Rule("/v1/billing_portal/sessions", endpoint="portal_create", methods=["POST"]),
        Rule("/v1/subscriptions", endpoint="subscription_list", methods=["GET"]),
        Rule("/v1/subscriptions/<id>", endpoint="subscription_get", methods=["GET"]),
        Rule("/v1/subscriptions/<id>", endpoint="subscription_update", methods=["POST"]),
        Rule("/v1/subscriptions/<id>", endpoint="subscription_cancel", methods=["DELETE"]),
        Rule("/c/pay/<id>", endpoint="checkout_page", methods=["GET", "POST"]),
        Rule("/c/pay/<id>/cancel", endpoint="checkout_cancel", methods=["GET"]),
        Rule("/p/session/<id>", endpoint="portal_page", methods=["GET"]),
        Rule("/p/session/<id>/card", endpoint="portal_card", methods=["POST"]),
        Rule("/p/session/<id>/cancel/<sub>", endpoint="portal_cancel", methods=["POST"]),
        Rule("/_sandbox/webhook", endpoint="control_webhook", methods=["POST"]),
        Rule("/_sandbox/subscriptions/<id>/renew", endpoint="control_renew", methods=["POST"]),
        Rule("/_sandbox/customers/<id>/card", endpoint="control_card", methods=["POST"]),
        Rule("/_sandbox/clock", endpoint="control_clock", methods=["POST"]),
        Rule("/_sandbox/events", endpoint="control_events", methods=["GET"]),
    ]
)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, indent=2), status, mimetype="application/json", headers=headers)


class StripeApp:
    def __init__(self, state: StripeState, secret_key: str) -> None:
        self.state, self.secret_key = state, secret_key

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except StripeError as error:
            response = _json(error.body(), error.status)
        except HTTPException as error:
            response = _json(
                {
                    "error": {
                        "message": f"Unrecognized request URL ({request.method}: {request.path}).",
                        "type": "invalid_request_error",
                    }
                },
                error.code or 404,
            )
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        endpoint, args = URLS.bind_to_environ(request.environ).match()
        if endpoint in API_ROUTES:
            return self.api(request, endpoint, dict(args))
        handler = getattr(self, endpoint, None)
        if handler is None:
            raise NotFound()
        with self.state.lock:
            result: Response = handler(request, **args)
            return result

    def api(self, request: Request, endpoint: str, args: dict[str, str]) -> Response:
        self._authenticate(request)
        params = forms.parse(
            request.args.items(multi=True)
            if request.method in ("GET", "DELETE")
            else request.form.items(multi=True)
        )
        unknown = sorted(set(params) - ACCEPTED.get(endpoint, set()) - {"expand"})
        if unknown:
            error = StripeError(
                400, f"Received unknown parameter: {unknown[0]}", "parameter_unknown", unknown[0]
            )
            return _json(error.body(), 400)
        key = request.headers.get("Idempotency-Key", "")
        headers = {
            "Request-Id": "req_" + key[:14] if key else "req_standin",
            "Stripe-Version": "2025-03-31.basil",
        }
        with self.state.lock:
            if key and request.method == "POST":
                replayed = self.state.replay(key, {"path": request.path, **params})
                if replayed:
                    return _json(replayed[1], replayed[0], {**headers, "Idempotent-Replayed": "true"})
            try:
                body = copy.deepcopy(API_ROUTES[endpoint][1](self.state, request, params, args))
                status = 200
            except StripeError as error:
                body, status = error.body(), error.status
            if key and request.method == "POST" and status < 500:
                self.state.remember(key, {"path": request.path, **params}, status, body)
            if status == 200:
                self._record(body)
        return _json(body, status, headers)

    def _record(self, body: dict[str, Any]) -> None:
        for obj in body["data"] if body.get("object") == "list" else [body]:
            self.state.record(obj)

    def _authenticate(self, request: Request) -> None:
        # https://docs.stripe.com/api/authentication: HTTP Basic or Bearer with the secret key; 401 otherwise.
        header = request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else ""
        if not given:
            raise StripeError(401, "You did not provide an API key. Provide it in the Authorization header.")
        if not hmac.compare_digest(given.encode(), self.secret_key.encode()):
            raise StripeError(401, f"Invalid API Key provided: {given[:8]}{'*' * 8}{given[-4:]}")

    # ---- hosted pages ----------------------------------------------------------------------------
    def checkout_page(self, request: Request, id: str) -> Response:
        session = self.state.session(id)
        params = self.state.session_params[id]
        price = self.state.price(params["price"])
        product = self.state.product(price["product"])
        customer = self.state.customers.get(session["customer"] or "")
        email = (customer or {}).get("email") or session["customer_email"] or ""
        error = ""
        if request.method == "POST" and session["status"] == "open":
            try:
                target = self.state.complete_checkout(
                    id,
                    request.form.get("cardNumber", "").replace(" ", ""),
                    request.form.get("email", "").strip() or email,
                    request.form.get("billingCountry", ""),
                    request.form.get("billingPostalCode", ""),
                )
                return Response(status=303, headers={"Location": target})
            except StripeError as failed:
                error = failed.message
        html = pages.checkout(
            session, product, price, email, self.state.session_params[id]["trial_end"], error
        )
        return Response(html, 402 if error else 200, mimetype="text/html")

    def checkout_cancel(self, request: Request, id: str) -> Response:
        session = self.state.session(id)
        return Response(status=303, headers={"Location": session["cancel_url"] or session["success_url"]})

    def portal_page(self, request: Request, id: str, error: str = "") -> Response:
        portal = self.state.portal_session(id)
        customer = self.state.customer(portal["customer"])
        subs = [s for s in self.state.subscriptions.values() if s["customer"] == customer["id"]]
        products = {p["id"]: p for p in self.state.products.values()}
        invoices = [i for i in self.state.invoices.values() if i["customer"] == customer["id"]]
        html = pages.portal(
            portal, customer, subs, products, invoices, self.state.cards.get(customer["id"]), error
        )
        return Response(html, 402 if error else 200, mimetype="text/html")

    def portal_card(self, request: Request, id: str) -> Response:
        try:
            self.state.portal_update_card(id, request.form.get("cardNumber", "").replace(" ", ""))
        except StripeError as failed:
            return self.portal_page(request, id, failed.message)
        return Response(status=303, headers={"Location": f"/p/session/{id}"})

    def portal_cancel(self, request: Request, id: str, sub: str) -> Response:
        portal = self.state.portal_session(id)
        if self.state.subscription(sub)["customer"] != portal["customer"]:
            raise NotFound()  # a portal session reaches its own customer's subscriptions only
        self.state.cancel_subscription(sub)
        return Response(status=303, headers={"Location": f"/p/session/{id}"})

    # ---- control routes for tests ----------------------------------------------------------------
    def control_webhook(self, request: Request) -> Response:
        body = request.get_json(force=True)
        self.state.webhooks.configure(body.get("url"), body.get("secret", ""))
        return _json({"url": body.get("url")})

    def control_renew(self, request: Request, id: str) -> Response:
        return _json(self.state.renew(id))

    def control_card(self, request: Request, id: str) -> Response:
        self.state.customer(id)
        self.state.cards[id] = str(request.get_json(force=True)["number"])
        return _json({"customer": id})

    def control_clock(self, request: Request) -> Response:
        self.state.clock_offset += int(request.get_json(force=True).get("advance_seconds", 0))
        return _json({"now": self.state.now()})

    def control_events(self, request: Request) -> Response:
        return _json(resources.list_of(self.state.events, "/_sandbox/events"))
