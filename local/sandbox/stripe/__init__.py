"""A Stripe stand-in for exactly the calls the product makes: Customers, Products and Prices, Checkout
Sessions in subscription mode (with a hosted page that completes or cancels and redirects back), Billing
Portal sessions (with a hosted page), Subscriptions, and signed webhooks.

Where its behaviour comes from (Stripe's public contract):
- object shapes: Stripe's OpenAPI fixtures (github.com/stripe/openapi, fixtures3.json; a copy is in the
  team's reference folder). Every object answered has exactly the fields of Stripe's example of that
  resource — local/sandbox/tests/stripe/test_fixture_shapes.py checks it mechanically;
- the API's conventions (form-encoded bodies with bracketed keys, Bearer secret keys, `{"error": {...}}`
  bodies, list objects, Idempotency-Key replays): https://docs.stripe.com/api (Authentication, Errors,
  Idempotent requests, Pagination, Expanding) and the official stripe-python library that calls it;
- webhook signing: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
  https://docs.stripe.com/webhooks#verify-manually (and stripe-python's stripe/_webhook.py,
  WebhookSignature.verify_header). Stripe does not guarantee the order of events
  (https://docs.stripe.com/webhooks#event-ordering) and may deliver one more than once
  (https://docs.stripe.com/webhooks#handle-duplicate-events).

Run it with `python -m local.sandbox.stripe --port P --webhook-url URL --webhook-secret whsec_...`, or
in-process with `StripeSandbox(...).start()`.
"""

from local.sandbox.stripe.server import StripeSandbox

__all__ = ["StripeSandbox"]
