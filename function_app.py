"""Wiring only: the FunctionApp and one blueprint per entry point. Nothing heavy runs at import."""

import azure.functions as func

from functions import (
    activity_expiry,
    backfill,
    billing_reminders,
    dynamics_install,
    dynamics_webhook,
    health,
    invoice_push,
    light_alerts,
    oauth_callbacks,
    portal_accounts,
    portal_activity,
    portal_billing,
    portal_connections,
    reference_refresh,
    state_purge,
    stripe_webhook,
    sweep,
    xero_events,
    xero_webhook,
)

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health.bp)
app.register_functions(dynamics_webhook.bp)
app.register_functions(invoice_push.bp)
app.register_functions(reference_refresh.bp)
app.register_functions(light_alerts.bp)
app.register_functions(portal_accounts.bp)
app.register_functions(portal_connections.bp)
app.register_functions(portal_activity.bp)
app.register_functions(oauth_callbacks.bp)
app.register_functions(portal_billing.bp)
app.register_functions(stripe_webhook.bp)
app.register_functions(xero_webhook.bp)
app.register_functions(xero_events.bp)
app.register_functions(billing_reminders.bp)
app.register_functions(sweep.bp)
app.register_functions(state_purge.bp)
app.register_functions(activity_expiry.bp)
app.register_functions(backfill.bp)
app.register_functions(dynamics_install.bp)
