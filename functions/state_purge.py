"""Every 10 minutes: expired OAuth state rows go, and unfinished Xero sign-ins they hold are revoked."""

import azure.functions as func

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 */10 * * * *", run_on_startup=False)
def oauth_state_purge(timer: func.TimerRequest) -> None:
    from shared import bootstrap
    from shared.connections.state_purge import purge_abandoned_flows
    from shared.crypto import KeyRing
    from shared.store.oauth_state import OAuthStateStore
    from shared.xero.oauth import XeroOAuth

    app = bootstrap.worker()
    settings = app.settings
    oauth = XeroOAuth(app.session(), settings)
    keys = KeyRing.from_setting(settings.token_encryption_keys)
    purge_abandoned_flows(OAuthStateStore.from_settings(settings), keys, oauth.revoke)
