"""The authorization code grant with PKCE, Dropletbook's side: the code comes back to the
callback and is exchanged over the back channel (RFC 6749 §4.1.2-§4.1.4, RFC 7636 §4.5);
Disconnect revokes the tokens (RFC 7009). The request itself is in `front_channel`."""

import logging
from collections.abc import Mapping
from urllib.parse import urlencode

from services.demo_client.context import ClientContext
from services.demo_client.errors import back_channel, refuse
from services.demo_client.explanations import refusals, steps
from services.demo_client.explanations.steps import Note
from services.demo_client.grants import CODE
from services.demo_client.grants.browser_state import (
    drop_grant,
    granted_scopes,
    keep_tokens,
    recording,
)
from services.demo_client.grants.front_channel import (
    check_authorization_response,
    start_authorization,
)
from services.demo_client.inspector import Recorder
from services.demo_client.models import BrowserSession
from services.demo_client.oauth import AuthorizationServerUnreachableError, TokenRequestError
from shared.scopes import format_scope, parse_scope

logger = logging.getLogger(__name__)

_REFRESH_HINT = "refresh_token"  # RFC 7009 §2.1 token_type_hint


def connect(ctx: ClientContext, browser: BrowserSession, *, wanted: frozenset[str]) -> str:
    """Step 2: where to send the browser to ask for `wanted`. The request asks for the union
    of `wanted` and the scopes already held: the new grant replaces the held one, so asking
    for less would drop access the user gave (the server has no `include_granted_scopes`)."""
    held = granted_scopes(browser)
    scope = format_scope(wanted | held)
    why = None
    if "write" in wanted - held:
        why = steps.ASKING_FOR_WRITE
    elif held - wanted:
        why = steps.keeping_granted(format_scope(held), scope)
    return start_authorization(ctx, browser, flow=CODE, scope=scope, why=why)


def receive_code(ctx: ClientContext, browser: BrowserSession, params: Mapping[str, str]) -> str:
    """The callback: check the response, exchange the code; return where to go next."""
    with recording(browser, CODE) as rec:
        step = steps.CODE_REDIRECT
        url = ctx.settings.redirect_uri + "?" + urlencode(params)
        rec.redirect(step.title, url, params, text=step.text, tutorial=step.tutorial)
        pending = check_authorization_response(ctx, browser, rec, CODE, params)
        code = params.get("code")
        if not code:
            raise refuse(rec, refusals.NO_CODE)
        with back_channel(rec, refused=refusals.code_refused, tutorial="Step 5"):
            result = ctx.code_client.exchange_code(
                code=code, redirect_uri=ctx.settings.redirect_uri, code_verifier=pending["verifier"]
            )
        logger.info("code flow: state checked, code exchanged, scope %r", result.tokens.scope)
        previous = browser.grants.get(CODE) or {}
        keep_tokens(browser, rec, CODE, result, steps.CODE_EXCHANGE, previous=previous)
        replaced = previous.get("refresh_token")
        if result.tokens.refresh_token and replaced and replaced != result.tokens.refresh_token:
            _revoke_replaced(ctx, rec, replaced)
        granted = parse_scope(result.tokens.scope)
        if previous and "write" in granted and "write" not in parse_scope(previous.get("scope")):
            browser.notice = steps.WRITE_GRANTED
        elif not previous:
            browser.notice = steps.CONNECTED
        return "/dashboard"


def _revoke_replaced(ctx: ClientContext, rec: Recorder, refresh_token: str) -> None:
    """End the grant the new one replaces (RFC 7009), so no forgotten grant stays live at the
    server. The new grant is in hand already: a failure here is noted, not shown as an error."""
    try:
        exchange = ctx.code_client.revoke(token=refresh_token, token_type_hint=_REFRESH_HINT)
    except TokenRequestError as exc:
        exchange = exc.exchange
    except AuthorizationServerUnreachableError as exc:
        rec.explain(steps.replaced_grant_kept(exc.url, exc.reason), ok=False)
        return
    step = steps.REPLACED_GRANT_REVOKED
    rec.exchange(step.title, exchange, text=step.text, tutorial=step.tutorial)


def revoke(ctx: ClientContext, rec: Recorder, token: str, hint: str, step: Note) -> None:
    """RFC 7009 revocation of a token Dropletbook is about to forget, recorded as `step`;
    a refusal is shown as it is (the token is forgotten anyway)."""
    with back_channel(rec):
        try:
            exchange = ctx.code_client.revoke(token=token, token_type_hint=hint)
        except TokenRequestError as exc:
            exchange = exc.exchange
    rec.exchange(step.title, exchange, text=step.text, tutorial=step.tutorial)


def disconnect(ctx: ClientContext, browser: BrowserSession) -> None:
    """Revoke the refresh token (and with it the grant) and the access token, then forget them."""
    grant = browser.grants.get(CODE)
    if not grant:
        return
    with recording(browser, CODE) as rec:
        for hint in ("refresh_token", "access_token"):
            token = grant.get(hint)
            if not token:
                continue
            revoke(ctx, rec, token, hint, steps.revocation(hint))
        drop_grant(browser, CODE)
        browser.renew()
        logger.info("code flow: disconnected, tokens revoked")
        browser.notice = steps.DISCONNECTED
