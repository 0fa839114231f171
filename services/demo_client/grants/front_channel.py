"""The front channel the code, implicit and sign-in flows share: the authorization request
(RFC 6749 §4.1.1, §4.2.1, with `nonce` for OpenID Connect Core §3.1.2.1) and the ordered
checks on its response (§4.1.2, §4.2.2, RFC 9207)."""

import logging
import time
from collections.abc import Mapping
from typing import Any

from services.demo_client import oauth, oidc
from services.demo_client.context import ClientContext
from services.demo_client.errors import refuse, unreachable
from services.demo_client.explanations import refusals, steps
from services.demo_client.explanations.steps import Note
from services.demo_client.grants import IMPLICIT, SIGN_IN
from services.demo_client.grants.browser_state import recording
from services.demo_client.inspector import Recorder, mask
from services.demo_client.models import BrowserSession
from services.demo_client.settings import Settings
from shared.scopes import parse_scope

logger = logging.getLogger(__name__)


def _server_metadata(ctx: ClientContext, rec: Recorder, path: str) -> dict[str, Any]:
    """The server's metadata (RFC 8414, or OpenID Connect Discovery for a sign-in), asked for
    first so a down server is reported plainly here."""
    url = f"{ctx.settings.as_internal_url}{path}"
    try:
        return oidc.get_json(ctx.http, url)
    except oidc.ProviderError as exc:  # unreachable, an error status, or not a JSON object
        rec.explain(steps.metadata_unreachable(url, exc.reason), ok=False)
        raise unreachable(url, exc.reason) from None


def _registration(settings: Settings, flow: str) -> tuple[str, str]:
    """The client and redirect URI a front-channel flow uses."""
    if flow == IMPLICIT:
        return settings.implicit_client_id, settings.implicit_redirect_uri
    if flow == SIGN_IN:
        return settings.client_id, settings.signin_redirect_uri
    return settings.client_id, settings.redirect_uri


def start_authorization(
    ctx: ClientContext,
    browser: BrowserSession,
    *,
    flow: str,
    scope: str,
    why: Note | None = None,
) -> str:
    """Remember `state` (and the PKCE verifier) in the session; return the URL to send the
    browser to. `why` explains the scope asked for, when it needs explaining."""
    implicit = flow == IMPLICIT
    client_id, redirect_uri = _registration(ctx.settings, flow)
    openid = "openid" in parse_scope(scope)
    title = steps.flow_title(flow, scope)
    with recording(browser, flow, fresh=True, title=title) as rec:
        rec.explain(steps.registered(client_id, redirect_uri, public=implicit))
        if why is not None:
            rec.explain(why)
        path = oidc.OPENID_CONFIGURATION_PATH if openid else oauth.METADATA_PATH
        metadata = _server_metadata(ctx, rec, path)
        state = oauth.new_state()
        nonce = oidc.new_nonce() if openid else None
        pkce = None if implicit else oauth.new_pkce_pair()
        params = oauth.authorize_parameters(
            response_type="token" if implicit else "code",
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            state=state,
            pkce=pkce,
        )
        if nonce is not None:
            params["nonce"] = nonce
        url = oauth.build_authorize_url(ctx.settings.issuer, params)
        browser.pending = {
            "flow": flow,
            "state": state,
            "nonce": nonce,
            "verifier": pkce.verifier if pkce else None,
            "scope": scope,
            "started_at": time.time(),
            # RFC 9207 §2.4: a server that says it sends `iss` must send it in every response.
            "iss_required": metadata.get("authorization_response_iss_parameter_supported") is True,
        }
        step = steps.authorization_request(mask(pkce.verifier) if pkce else None)
        rec.redirect(step.title, url, params, text=step.text, tutorial=step.tutorial)
    logger.info(
        "%s flow: sending the browser to the authorization endpoint (scope %r)", flow, scope
    )
    return url


def check_authorization_response(
    ctx: ClientContext, browser: BrowserSession, rec: Recorder, flow: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """The checks every authorization response goes through, in order; returns the request it
    answers."""
    pending = browser.pending
    browser.pending = {}  # a state value is good for one response only
    logger.info("%s flow: authorization response received (error=%s)", flow, params.get("error"))
    if pending.get("flow") != flow or not oauth.state_matches(
        pending.get("state"), params.get("state")
    ):
        raise refuse(rec, refusals.STATE_MISMATCH)
    issuer = params.get("iss")
    if issuer is None and pending.get("iss_required"):
        raise refuse(rec, refusals.NO_ISSUER)
    if issuer is not None and issuer != ctx.settings.issuer:
        raise refuse(rec, refusals.wrong_issuer(issuer, ctx.settings.issuer))
    error = params.get("error")
    if error == "access_denied":
        raise refuse(rec, refusals.DENIED)
    if error is not None:
        raise refuse(rec, refusals.authorization_failed(error, params.get("error_description", "")))
    return pending
