"""Every hour: OAuth states older than their ten minutes are deleted (abandoned sign-ins, and used ones,
which stay without their secret until then: shared/store/oauth_state.py)."""

import azure.functions as func

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 17 * * * *", run_on_startup=False)
def oauth_state_purge_timer(timer: func.TimerRequest) -> None:
    from shared.config import get_settings
    from shared.store.oauth_state import OAuthStateStore

    OAuthStateStore.from_settings(get_settings()).purge_expired()
