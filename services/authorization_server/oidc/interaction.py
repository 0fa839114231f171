"""Whether an `openid` request must show the login or the consent page (OpenID Connect
Core 1.0 §3.1.2.1 `prompt`, `max_age`, `id_token_hint`; errors §3.1.2.6).

With `prompt=none` a page that would be needed is an error redirected to the client
instead: `login_required` (no session, or one older than `max_age`),
`interaction_required` (the session's user is not the one `id_token_hint` names: the user
would have to switch accounts), `consent_required`.
"""

from datetime import datetime

from services.authorization_server.oidc.request import Login, OidcRequest
from shared.errors import OAuthError


class LoginRequiredError(OAuthError):
    error = "login_required"
    status_code = 400


class InteractionRequiredError(OAuthError):
    error = "interaction_required"
    status_code = 400


class ConsentRequiredError(OAuthError):
    error = "consent_required"
    status_code = 400


def _login_reason(oidc: OidcRequest, login: Login | None, now: datetime) -> OAuthError | None:
    if login is None:
        return LoginRequiredError("the user is not logged in")
    if "login" in oidc.prompt:
        return LoginRequiredError("prompt=login asks for a fresh login")
    if oidc.max_age is not None:
        age = (now - login.auth_time).total_seconds()
        if oidc.max_age == 0 or age > oidc.max_age:
            return LoginRequiredError("the login is older than max_age")
    if oidc.hinted_subject is not None and oidc.hinted_subject != login.user_id:
        return InteractionRequiredError("another user than id_token_hint names is logged in")
    return None


def must_log_in(oidc: OidcRequest, login: Login | None, *, now: datetime) -> bool:
    """True: send the user to the login page first. Raises the error for `prompt=none`."""
    reason = _login_reason(oidc, login, now)
    if reason is not None and "none" in oidc.prompt:
        raise reason
    return reason is not None


def must_ask_consent(oidc: OidcRequest, *, consented: bool) -> bool:
    """True: show the consent screen. Raises `consent_required` for `prompt=none`."""
    needed = not consented or "consent" in oidc.prompt
    if needed and "none" in oidc.prompt:
        raise ConsentRequiredError("the user has not approved this request")
    return needed
