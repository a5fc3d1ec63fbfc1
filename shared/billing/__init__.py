"""Stripe Billing: a Customer per portal account, a Product and Price per paid plan (setup.py), Checkout
to subscribe, a subscription update to change plan, the Customer Portal for card and invoices, and the
signed webhook that keeps the account's subscription as Stripe has it (webhook.py)."""
