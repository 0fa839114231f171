"""The implicit grant (deprecated, RFC 9700 §2.1.2), Dropletbook's side: the callback page's
script read the token from the URL fragment (RFC 6749 §4.2.2) and posted it here. The request
itself is in `front_channel`."""

from collections.abc import Mapping

from services.demo_client.context import ClientContext
from services.demo_client.errors import refuse
from services.demo_client.explanations import refusals, steps
from services.demo_client.grants import IMPLICIT
from services.demo_client.grants.browser_state import recording, store_grant
from services.demo_client.grants.front_channel import check_authorization_response
from services.demo_client.models import BrowserSession
from services.demo_client.oauth import BEARER, Tokens

FRAGMENT_FIELDS = (
    "access_token",
    "token_type",
    "expires_in",
    "scope",
    "state",
    "iss",
    "error",
    "error_description",
)


def receive_token(ctx: ClientContext, browser: BrowserSession, fragment: Mapping[str, str]) -> None:
    """Check the response like any other, keep the token and try it on the API."""
    params = {name: fragment[name] for name in FRAGMENT_FIELDS if fragment.get(name)}
    with recording(browser, IMPLICIT) as rec:
        step = steps.FRAGMENT_REDIRECT
        url = ctx.settings.implicit_redirect_uri + "#…"
        rec.redirect(step.title, url, params, text=step.text, tutorial=step.tutorial)
        check_authorization_response(ctx, browser, rec, IMPLICIT, params)
        token = params.get("access_token")
        if not token or params.get("token_type", "").lower() != BEARER:
            raise refuse(rec, refusals.NO_TOKEN)
        expires_in = params.get("expires_in", "")
        tokens = Tokens(
            access_token=token,
            token_type=BEARER,
            expires_in=int(expires_in) if expires_in.isdigit() else None,
            scope=params.get("scope", ""),
            refresh_token=None,
            info={},
        )
        store_grant(browser, IMPLICIT, tokens)
        browser.renew()
        rec.jwt(token, tutorial="Step 5")
        call = ctx.resources.call("GET", "/v2/account", token=token)
        works = steps.FRAGMENT_TOKEN_WORKS
        rec.api(call, token=token, text=works.text, tutorial=works.tutorial)
