"""Sign in with Droplet Cloud: the OpenID Connect code flow with PKCE and `nonce`
(OpenID Connect Core 1.0 §3.1), the ID Token validated (`id_token`), UserInfo (§5.3), and
sign-out through the provider's end-session endpoint (RP-Initiated Logout 1.0).

It uses Dropletbook's confidential client (`CLIENT_CLIENT_ID`) with its own redirect URI;
the sign-in is kept apart from the Connect grant (`browser.grants[SIGN_IN]`, sealed like
every token).
"""

import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from services.demo_client import oauth, oidc
from services.demo_client.context import ClientContext
from services.demo_client.errors import FlowError, back_channel, refuse
from services.demo_client.explanations import refusals, steps
from services.demo_client.explanations import sign_in as text
from services.demo_client.grants import SIGN_IN
from services.demo_client.grants.authorization_code import revoke
from services.demo_client.grants.browser_state import drop_grant, recording
from services.demo_client.grants.front_channel import (
    check_authorization_response,
    start_authorization,
)
from services.demo_client.id_token import Expected, IdTokenError, validate_id_token
from services.demo_client.inspector import Recorder
from services.demo_client.models import BrowserSession
from shared.jwt import SUPPORTED_ALGORITHMS

logger = logging.getLogger(__name__)

_REFRESH_HINT = "refresh_token"  # RFC 7009 §2.1 token_type_hint
SIGN_OUT = "signout"
"""The flow name of a sign-out in flight (`browser.pending`)."""


def start(ctx: ClientContext, browser: BrowserSession) -> str:
    """Where to send the browser: the authorization endpoint, with `nonce` and PKCE."""
    return start_authorization(ctx, browser, flow=SIGN_IN, scope=oidc.SIGN_IN_SCOPE)


def _provider(ctx: ClientContext, rec: Recorder) -> oidc.Provider:
    settings = ctx.settings
    try:
        provider = oidc.discover(
            ctx.http, issuer=settings.issuer, internal_url=settings.as_internal_url
        )
    except oidc.ProviderError as exc:
        raise refuse(rec, text.provider_unusable(exc.url, exc.reason)) from None
    return provider


def _jwks(ctx: ClientContext, rec: Recorder, provider: oidc.Provider) -> dict[str, Any]:
    url = ctx.settings.as_internal_url + oidc.path_on_issuer(provider.jwks_uri, provider.issuer)
    try:
        return oidc.get_json(ctx.http, url)
    except oidc.ProviderError as exc:
        raise refuse(rec, text.provider_unusable(exc.url, exc.reason)) from None


def receive_code(ctx: ClientContext, browser: BrowserSession, params: Mapping[str, str]) -> str:
    """The callback: check the response, exchange the code, validate the ID Token, call
    UserInfo; only then is the user signed in. Returns where to go next."""
    settings = ctx.settings
    with recording(browser, SIGN_IN) as rec:
        url = settings.signin_redirect_uri + "?" + urlencode(params)
        step = steps.CODE_REDIRECT
        rec.redirect(step.title, url, params, text=step.text, tutorial=step.tutorial)
        pending = check_authorization_response(ctx, browser, rec, SIGN_IN, params)
        code = params.get("code")
        if not code:
            raise refuse(rec, refusals.NO_CODE)
        provider = _provider(ctx, rec)
        rec.explain(text.DISCOVERY)
        with back_channel(rec, refused=refusals.code_refused, tutorial="Step 5"):
            result = ctx.code_client.exchange_code(
                code=code, redirect_uri=url.partition("?")[0], code_verifier=pending["verifier"]
            )
        note = text.CODE_EXCHANGE
        rec.exchange(note.title, result.exchange, text=note.text, tutorial=note.tutorial)
        id_token = result.exchange.json().get("id_token")
        if not isinstance(id_token, str):
            raise refuse(rec, text.NO_ID_TOKEN)
        rec.jwt(id_token, note=text.ID_TOKEN)
        expected = Expected(
            issuer=settings.issuer,
            client_id=settings.client_id,
            nonce=str(pending.get("nonce") or ""),
            access_token=result.tokens.access_token,
            algorithms=_algorithms(provider),
        )
        try:
            valid = validate_id_token(id_token, jwks=_jwks(ctx, rec, provider), expected=expected)
        except IdTokenError as exc:
            rec.checks(text.ID_TOKEN_INVALID, exc.checks)
            logger.info("sign-in: ID Token refused (%s)", exc.failed.name)
            raise FlowError.of(text.id_token_refused(exc.failed.name, exc.failed.detail)) from None
        rec.checks(text.ID_TOKEN_VALID, valid.checks)
        userinfo = _userinfo(ctx, rec, provider, result.tokens.access_token, valid.claims["sub"])
        name = str(userinfo.get("name") or valid.claims.get("name") or valid.claims["sub"])
        browser.grants = {
            **browser.grants,
            SIGN_IN: {
                "id_token": id_token,
                "access_token": result.tokens.access_token,
                "refresh_token": result.tokens.refresh_token,
                "scope": result.tokens.scope,
                "claims": valid.claims,
                "userinfo": userinfo,
                "name": name,
                "signed_in_at": time.time(),
            },
        }
        browser.renew()  # a new session id with every sign-in, against session fixation
        browser.notice = text.signed_in(name)
        logger.info("sign-in: ID Token valid, UserInfo read")
        return "/signin"


def _algorithms(provider: oidc.Provider) -> tuple[str, ...]:
    """The algorithms Dropletbook accepts that the provider also says it signs with."""
    advertised = provider.id_token_algorithms or SUPPORTED_ALGORITHMS
    return tuple(a for a in SUPPORTED_ALGORITHMS if a in advertised)


def _userinfo(
    ctx: ClientContext, rec: Recorder, provider: oidc.Provider, token: str, subject: str
) -> dict[str, Any]:
    """The consented claims from UserInfo; its `sub` must be the ID Token's (§5.3.4)."""
    path = oidc.path_on_issuer(provider.userinfo_endpoint, provider.issuer)
    call = ctx.apps.call("GET", path, token=token)
    rec.api(call, token=token, text=text.USERINFO.text, tutorial=text.USERINFO.tutorial)
    if not call.ok or not isinstance(call.body, dict):
        raise refuse(rec, text.userinfo_refused(call.status, call.why_refused or "no JSON"))
    if call.body.get("sub") != subject:
        raise refuse(rec, text.USERINFO_OTHER_USER)
    return call.body


def sign_out(ctx: ClientContext, browser: BrowserSession) -> str:
    """Forget the sign-in, revoke its refresh token, and return the provider's end-session
    URL (with `id_token_hint`, `post_logout_redirect_uri` and a fresh `state`)."""
    grant = browser.grants.get(SIGN_IN)
    if not grant:
        return "/signin"
    settings = ctx.settings
    with recording(browser, SIGN_IN) as rec:
        drop_grant(browser, SIGN_IN)
        browser.renew()
        if grant.get("refresh_token"):
            revoke(ctx, rec, grant["refresh_token"], _REFRESH_HINT, text.REVOKE_ON_SIGN_OUT)
        provider = _provider(ctx, rec)
        if provider.end_session_endpoint is None:
            rec.explain(text.NO_END_SESSION)
            browser.notice = text.SIGNED_OUT_HERE
            return "/signin"
        state = oauth.new_state()
        params = {
            "id_token_hint": grant["id_token"],
            "post_logout_redirect_uri": settings.post_logout_redirect_uri,
            "client_id": settings.client_id,
            "state": state,
        }
        url = oidc.end_session_url(provider.end_session_endpoint, params)
        note = text.END_SESSION
        rec.redirect(note.title, url, params, text=note.text, tutorial=note.tutorial)
        browser.pending = {"flow": SIGN_OUT, "state": state}
        logger.info("sign-out: sending the browser to the end-session endpoint")
        return url


def signed_out(ctx: ClientContext, browser: BrowserSession, params: Mapping[str, str]) -> None:
    """The provider sent the browser back after logout: check the `state` we sent."""
    pending, browser.pending = browser.pending, {}
    with recording(browser, SIGN_IN) as rec:
        note = text.SIGNED_OUT_REDIRECT
        url = ctx.settings.post_logout_redirect_uri + "?" + urlencode(params)
        rec.redirect(note.title, url, params, text=note.text, tutorial=note.tutorial)
        if pending.get("flow") != SIGN_OUT or not oauth.state_matches(
            pending.get("state"), params.get("state")
        ):
            raise refuse(rec, text.SIGN_OUT_STATE_MISMATCH)
        browser.notice = text.SIGNED_OUT
