"""Using a grant's tokens: API calls with the access token (RFC 6750 §2.1); when the API
refuses it (401 invalid_token), refresh it (RFC 6749 §6, rotated) and retry once. A refresh
can also be asked for at once, to watch the rotation."""

import logging
from typing import Any

from services.demo_client.api import ApiCall, BearerApi
from services.demo_client.context import ClientContext
from services.demo_client.errors import FlowError, back_channel
from services.demo_client.explanations import refusals, steps
from services.demo_client.explanations.refusals import Refusal
from services.demo_client.grants import CODE, PASSWORD
from services.demo_client.grants.browser_state import drop_grant, recording, store_grant
from services.demo_client.inspector import Recorder, mask
from services.demo_client.models import BrowserSession
from services.demo_client.oauth import TokenClient

logger = logging.getLogger(__name__)


def call_api(
    ctx: ClientContext,
    browser: BrowserSession,
    method: str,
    path: str,
    *,
    key: str = CODE,
    json: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    api: BearerApi | None = None,
) -> ApiCall:
    """Call `api` (the resource server by default) with grant `key`'s access token."""
    grant = browser.grants.get(key)
    if not grant:
        raise FlowError.of(refusals.NOT_CONNECTED)
    api = api or ctx.resources
    with recording(browser, key) as rec:
        call = api.call(method, path, token=grant["access_token"], json=json, params=params)
        rec.api(call, token=grant["access_token"], tutorial="Step 6")
        logger.info("%s flow: %s %s -> %s", key, method, path, call.status)
        if call.token_rejected and grant.get("refresh_token"):
            rec.explain(steps.token_refused(call.error_description), ok=False)
            logger.info("%s flow: access token refused (invalid_token); refreshing", key)
            token = _refresh(ctx, browser, rec, key, grant)
            call = api.call(method, path, token=token, json=json, params=params)
            retried = steps.RETRIED
            rec.api(call, token=token, text=retried.text, tutorial=retried.tutorial)
        return call


def refresh_now(ctx: ClientContext, browser: BrowserSession, key: str = CODE) -> None:
    """The refresh grant on request (the dashboard's "Refresh now"), with the rotation shown."""
    grant = browser.grants.get(key)
    if not grant or not grant.get("refresh_token"):
        raise FlowError.of(refusals.NOT_CONNECTED)
    with recording(browser, key) as rec:
        rec.explain(steps.REFRESH_ON_REQUEST)
        _refresh(ctx, browser, rec, key, grant)
        new = browser.grants[key]["refresh_token"]
        rec.explain(steps.rotated(mask(grant["refresh_token"]), mask(new)))
        logger.info("%s flow: refreshed on request", key)


def _token_client(ctx: ClientContext, key: str) -> TokenClient:
    """The registration that holds grant `key`'s refresh token."""
    return ctx.trusted_client if key == PASSWORD else ctx.code_client


def _refresh(
    ctx: ClientContext, browser: BrowserSession, rec: Recorder, key: str, grant: dict[str, Any]
) -> str:
    """The new access token; a refused refresh ends the grant."""

    def ended(error: str, description: str) -> Refusal:
        drop_grant(browser, key)
        return refusals.refresh_refused(error, description)

    with back_channel(rec, refused=ended, tutorial="Step 7"):
        result = _token_client(ctx, key).refresh(refresh_token=grant["refresh_token"])
    step = steps.REFRESH
    rec.exchange(step.title, result.exchange, text=step.text, tutorial=step.tutorial)
    store_grant(browser, key, result.tokens, previous=grant)
    return result.tokens.access_token


def read_account(ctx: ClientContext, browser: BrowserSession, key: str) -> ApiCall | None:
    """The user's account as grant `key`'s token sees it; None without a token."""
    return (
        call_api(ctx, browser, "GET", "/v2/account", key=key) if browser.grants.get(key) else None
    )
