"""Sandbox Xero: a local stand-in that behaves like real Xero (identity, Accounting API, limits, faults,
webhooks). `make run` talks to it when no Xero credentials exist; integration tests talk to it over HTTP.

Start: `python -m local.sandbox.xero --port P [--time-scale S] [--seed demo|realistic|none]`, or in-process
`XeroSandbox(time_scale=1.0, seed="demo").start(port=0)` -> `.url`, `.state`, `.stop()`.
All Xero hosts are this one origin (XERO_LOGIN_URL = XERO_IDENTITY_URL = XERO_API_URL = sandbox url).

Identity
    GET/POST /identity/connect/authorize   consent page (choose orgs; Allow -> 302 ?code&state, Cancel ->
                                           ?error=access_denied). Bad client_id/redirect_uri -> 400 page.
    POST /connect/token                    authorization_code | refresh_token (client via HTTP Basic).
    POST /connect/revocation               token=<refresh token>: the grant, its tokens and connections die.
    GET /connections, DELETE /connections/{id}
    Default app: client_id `sandbox-xero-client`, secret `sandbox-xero-secret`, any 127.0.0.1/localhost
    redirect URI. Access tokens live 30 min, codes 5 min (single use). Refresh tokens rotate; a rotated-out
    token still works for 30 min and then answers the grant's CURRENT refresh token plus a new access
    token (no further rotation). Lifetimes run on the sandbox clock (time_scale).

Accounting (/api.xro/2.0/): Invoices, Contacts, Items (GET, PUT, POST, GET/POST {id}); TaxRates, Accounts,
    BrandingThemes, TrackingCategories, Currencies, Organisation (GET). Gateway order: bearer (401
    AuthenticationUnsuccessful / TokenExpired) -> xero-tenant-id connected (403) -> scope (401
    AuthorizationUnsuccessful) -> limits (429) -> faults -> Idempotency-Key replay -> resource.
    Behaviours worth knowing: summarizeErrors defaults to true (400 ValidationException, valid elements
    ARE saved); GET Invoices without `page` leaves out LineItems (like Xero); GET Contacts hides ARCHIVED
    unless includeArchived=true; readOnly and unknown fields in requests are ignored (Xero recalculates
    them); wrong JSON types and unknown enum values -> 400 PostDataInvalidException (ErrorNumber 14).

Control API (JSON, no auth)
    POST /_sandbox/reset                         empty state (no orgs), default app, limits on, faults off
    POST /_sandbox/seed {"profile": "demo"|"realistic"}   add the profile's organisations
    GET|PUT /_sandbox/faults {error_rate, throttle_rate, throttle_retry_after, slow_rate, slow_seconds,
                              lost_rate, latency_ms, seed}   (throttle: 429 + Retry-After, nothing done)
    GET|PUT /_sandbox/limits {enabled, time_scale, minute, day, concurrent, app_minute}; GET also answers
        {"admitted": {tenant: n}, "refused": {tenant: {minute|day|concurrent|appminute|injected: n}}}
    POST /_sandbox/limits/reset                  forget the rate windows and those counts
    POST /_sandbox/clock/advance {"seconds": n}  jump the sandbox clock
    GET /_sandbox/orgs                           [{tenantId, name, baseCurrency, invoices, contacts, items}]
    GET /_sandbox/orgs/{tenantId|name}/{Invoices|Contacts|Items|TaxRates|Accounts|BrandingThemes|
        TrackingCategories|Currencies|Organisation}          stored records
    PATCH /_sandbox/orgs/{tenant}/{collection}/{id}  merge fields (e.g. {"Status": "ARCHIVED"} on a
        TaxRate by TaxType, {"Name": ".."} on an Account by AccountID or Code, {"ContactStatus": "ARCHIVED"})
    POST /_sandbox/orgs/{tenant}/Invoices/{id}/pay {"amount"?}  payment; PAID when fully paid; webhook
    POST /_sandbox/tokens {scopes?, tenants?, client_id?}  token answer without the browser dance
    POST /_sandbox/tokens/expire                 every access token expires now
    POST /_sandbox/apps {client_id, client_secret, redirect_uris, name?}  exact redirect URIs
    GET|PUT /_sandbox/webhooks {url, key, drop_next, drop_rate}  GET also lists delivery attempts and drops
    POST /_sandbox/webhooks/intent               Xero's intent-to-receive handshake against the URL
    GET /_sandbox/requests                       [{method, path template, organisation (tenant id), count}]
    POST /_sandbox/requests/reset
"""

from local.sandbox.xero.server import XeroSandbox

__all__ = ["XeroSandbox"]
