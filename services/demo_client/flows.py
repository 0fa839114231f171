"""What Dropletbook does in each flow, step by step, independent of the web routes.

Each function works on the browser's session row (tokens, the pending request, recorded
flows) and raises `FlowError` with a plain-language message when something goes wrong;
the caller saves the row either way, so the inspector shows failed steps too.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from services.demo_client import oauth
from services.demo_client.api import ApiCall, BearerApi
from services.demo_client.context import ClientContext
from services.demo_client.inspector import Flow, Recorder, mask
from services.demo_client.models import BrowserSession
from services.demo_client.oauth import (
    AuthorizationServerUnreachableError,
    TokenClient,
    TokenRequestError,
    TokenResult,
)
from shared.scopes import parse_scope

logger = logging.getLogger(__name__)

CODE = "code"
IMPLICIT = "implicit"
PASSWORD = "password"  # noqa: S105 (a flow name)
SERVICE = "service"
FLOW_TITLES = {
    CODE: "Authorization code with PKCE",
    IMPLICIT: "Implicit grant (deprecated)",
    PASSWORD: "Resource owner password credentials",
    SERVICE: "Client credentials",
}
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


class FlowError(Exception):
    """Something the user should be told plainly, with a way back."""

    def __init__(
        self, title: str, message: str, *, back: str = "/", status: int = 400, detail: str = ""
    ) -> None:
        super().__init__(title)
        self.title = title
        self.message = message
        self.back = back
        self.status = status
        self.detail = detail


class NotConnectedError(FlowError):
    def __init__(self, back: str = "/") -> None:
        super().__init__(
            "Not connected",
            "Dropletbook holds no token for this. Connect with Droplet Cloud first.",
            back=back,
            status=401,
        )


def unreachable(url: str, reason: str) -> FlowError:
    return FlowError(
        "Droplet Cloud is unreachable",
        f"Dropletbook could not reach the authorization server at {url} ({reason}). "
        "Check that it is running, then try again.",
        status=502,
    )


def recorder(
    browser: BrowserSession, key: str, *, fresh: bool = False, title: str = ""
) -> Recorder:
    stored = browser.flows.get(key)
    if fresh or not stored:
        return Recorder(Flow(key=key, title=title or FLOW_TITLES[key]))
    return Recorder(Flow.model_validate(stored))


def keep(browser: BrowserSession, rec: Recorder) -> None:
    # Reassign (not mutate) so SQLAlchemy sees the JSON column change.
    browser.flows = {**browser.flows, rec.flow.key: rec.flow.model_dump(mode="json")}


def _store_grant(
    browser: BrowserSession, key: str, result: TokenResult, *, previous: Mapping[str, Any] = {}
) -> None:
    tokens = result.tokens
    grant = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token or previous.get("refresh_token"),
        "scope": tokens.scope,
        "expires_at": time.time() + tokens.expires_in if tokens.expires_in else None,
        "info": tokens.info or previous.get("info") or {},
    }
    browser.grants = {**browser.grants, key: grant}


def _drop_grant(browser: BrowserSession, key: str) -> None:
    browser.grants = {k: v for k, v in browser.grants.items() if k != key}


def granted_scopes(browser: BrowserSession, key: str = CODE) -> frozenset[str]:
    grant = browser.grants.get(key)
    return parse_scope(grant.get("scope")) if grant else frozenset()


def _server_metadata(ctx: ClientContext, rec: Recorder) -> dict[str, Any]:
    """The server's metadata (RFC 8414), asked for first so a down server is reported plainly
    here."""
    url = f"{ctx.settings.as_internal_url}{oauth.METADATA_PATH}"
    try:
        response = ctx.http.get(url)
    except httpx.HTTPError as exc:
        rec.note(
            "Authorization server unreachable", f"GET {url} failed: {type(exc).__name__}", ok=False
        )
        raise unreachable(ctx.settings.issuer, type(exc).__name__) from None
    if response.status_code != 200:
        raise unreachable(ctx.settings.issuer, f"HTTP {response.status_code}")
    try:
        metadata = response.json()
    except ValueError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


# -- Authorization code with PKCE, and the implicit grant: the front channel ---------------


def start_authorization(
    ctx: ClientContext, browser: BrowserSession, *, flow: str, scope: str, reason: str = ""
) -> str:
    """Remember `state` (and the PKCE verifier) in the session; return the URL to send the
    browser to (RFC 6749 §4.1.1 / §4.2.1)."""
    settings = ctx.settings
    implicit = flow == IMPLICIT
    title = FLOW_TITLES[flow] + (f" — asking for {scope}" if scope != "read" else "")
    rec = recorder(browser, flow, fresh=True, title=title)
    client_id = settings.implicit_client_id if implicit else settings.client_id
    redirect_uri = settings.implicit_redirect_uri if implicit else settings.redirect_uri
    registered = (
        f"Dropletbook is registered at Droplet Cloud as client_id {client_id} with the "
        f"redirect URI {redirect_uri}. "
        + (
            "It is a public client: it has no secret, since a browser app cannot keep one."
            if implicit
            else "It is a confidential client: its client secret stays on Dropletbook's "
            "server and is never shown, not even in part."
        )
    )
    rec.note("The app is registered", registered, tutorial="Step 1")
    if reason:
        rec.note("Why Dropletbook asks again", reason, tutorial="Incremental authorization")
    try:
        metadata = _server_metadata(ctx, rec)
    finally:
        keep(browser, rec)
    state = oauth.new_state()
    pkce = None if implicit else oauth.new_pkce_pair()
    params = oauth.authorize_parameters(
        response_type="token" if implicit else "code",
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        pkce=pkce,
    )
    url = oauth.build_authorize_url(settings.issuer, params)
    browser.pending = {
        "flow": flow,
        "state": state,
        "verifier": pkce.verifier if pkce else None,
        "scope": scope,
        "started_at": time.time(),
        # RFC 9207 §2.4: a server that says it sends `iss` must send it in every response.
        "iss_required": metadata.get("authorization_response_iss_parameter_supported") is True,
    }
    text = (
        "Dropletbook sends your browser to Droplet Cloud's authorization endpoint. "
        "Droplet Cloud asks you to log in (if needed), then shows the consent screen: "
        "Authorize Application or Deny."
    )
    if pkce:
        text += (
            " The PKCE code verifier behind code_challenge stays on Dropletbook's server "
            f"({mask(pkce.verifier)})."
        )
    rec.redirect("Authorization request", url, params, text=text, tutorial="Steps 2-3")
    keep(browser, rec)
    logger.info(
        "%s flow: sending the browser to the authorization endpoint (scope %r)", flow, scope
    )
    return url


def _check_response(
    ctx: ClientContext, browser: BrowserSession, rec: Recorder, flow: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """The checks every authorization response goes through, in order."""
    pending = browser.pending
    browser.pending = {}  # a state value is good for one response only
    logger.info("%s flow: authorization response received (error=%s)", flow, params.get("error"))
    if pending.get("flow") != flow or not oauth.state_matches(
        pending.get("state"), params.get("state")
    ):
        rec.note(
            "Refused: state mismatch",
            "The state in this response is not the one Dropletbook sent. It may be a forged "
            "request (CSRF), so nothing is exchanged or stored.",
            ok=False,
        )
        raise FlowError(
            "Refused: the state did not match",
            "This response does not belong to an authorization that this browser started "
            "(the state parameter did not match). Dropletbook refused it as a possible "
            "cross-site request forgery (CSRF). Nothing was stored. Start again from "
            "Dropletbook if you meant to connect.",
            status=400,
        )
    issuer = params.get("iss")
    if issuer is None and pending.get("iss_required"):
        rec.note(
            "Refused: no issuer",
            "Droplet Cloud says (authorization_response_iss_parameter_supported) that it names "
            "itself in every authorization response (RFC 9207), but this one has no iss.",
            ok=False,
        )
        raise FlowError(
            "Refused: the response did not name its server",
            "This authorization response has no iss parameter, although Droplet Cloud always "
            "sends one. It was refused (a possible mix-up attack). Nothing was stored.",
        )
    if issuer is not None and issuer != ctx.settings.issuer:
        rec.note("Refused: wrong issuer", f"iss={issuer} is not {ctx.settings.issuer}", ok=False)
        raise FlowError(
            "Refused: unexpected authorization server",
            "The response names a different authorization server (iss) than the one "
            "Dropletbook asked. It was refused (a possible mix-up attack).",
        )
    error = params.get("error")
    if error == "access_denied":
        rec.note(
            "You chose Deny",
            "Droplet Cloud sent the user back with error=access_denied: no code, no token.",
            ok=False,
        )
        raise FlowError(
            "You chose Deny",
            "You chose Deny on Droplet Cloud's consent screen, so Dropletbook received no "
            "access this time. Nothing was shared. You can connect again whenever you like.",
            status=403,
        )
    if error is not None:
        description = params.get("error_description", "")
        rec.note("Authorization failed", f"error={error} {description}", ok=False)
        raise FlowError(
            "Droplet Cloud did not authorize the app",
            f"The authorization server answered {error}"
            + (f": {description}" if description else "."),
        )
    return pending


def finish_code_flow(ctx: ClientContext, browser: BrowserSession, params: Mapping[str, str]) -> str:
    """The callback: check `state`, exchange the code over the back channel (RFC 6749 §4.1.3)."""
    rec = recorder(browser, CODE)
    rec.redirect(
        "Redirect back to Dropletbook",
        ctx.settings.redirect_uri + "?" + urlencode(params),
        params,
        text="Droplet Cloud sends the browser back to the registered redirect URI. Dropletbook "
        "first checks that state is the value it stored for this browser session.",
        tutorial="Step 4",
    )
    try:
        pending = _check_response(ctx, browser, rec, CODE, params)
        code = params.get("code")
        if not code:
            raise FlowError("No authorization code", "The response carried neither code nor error.")
        try:
            result = ctx.code_client.exchange_code(
                code=code, redirect_uri=ctx.settings.redirect_uri, code_verifier=pending["verifier"]
            )
        except TokenRequestError as exc:
            rec.exchange("Token request refused", exc.exchange, text="", tutorial="Step 5")
            raise FlowError(
                "The code exchange failed",
                f"Droplet Cloud refused the authorization code: {exc.error}"
                + (f" ({exc.description})." if exc.description else "."),
            ) from None
        except AuthorizationServerUnreachableError as exc:
            raise unreachable(ctx.settings.issuer, exc.reason) from None
        rec.exchange(
            "Exchange the code for tokens",
            result.exchange,
            text="Over the back channel (server to server, never through the browser), "
            "Dropletbook posts the code, its PKCE code_verifier and its client credentials to "
            "the token endpoint. The answer carries the access token and a refresh token.",
            tutorial="Step 5",
        )
        rec.jwt(result.tokens.access_token, tutorial="Step 5")
        logger.info("code flow: state checked, code exchanged, scope %r", result.tokens.scope)
        previous = browser.grants.get(CODE) or {}
        _store_grant(browser, CODE, result, previous=previous)
        browser.renew()  # every grant moves the session to a new id (session fixation)
        if (
            "write" in parse_scope(result.tokens.scope)
            and "write" not in parse_scope(previous.get("scope"))
            and previous
        ):
            browser.notice = "Dropletbook now has read and write access: you can create droplets."
        elif not previous:
            browser.notice = "Connected: Dropletbook can now read your Droplet Cloud account."
        return "/dashboard"
    finally:
        keep(browser, rec)


def receive_implicit_token(
    ctx: ClientContext, browser: BrowserSession, fragment: Mapping[str, str]
) -> None:
    """Steps 5-6 of the implicit walk: the page's script read the fragment and posted it here."""
    params = {name: fragment[name] for name in FRAGMENT_FIELDS if fragment.get(name)}
    rec = recorder(browser, IMPLICIT)
    rec.redirect(
        "Token in the URL fragment",
        ctx.settings.implicit_redirect_uri + "#…",
        params,
        text="Droplet Cloud redirected the browser with the access token in the URL fragment "
        "(after #), which browsers never send to servers. A script on the callback page read "
        "it and passed it to Dropletbook. There is no refresh token and no code exchange.",
        tutorial="Steps 4-5",
    )
    try:
        _check_response(ctx, browser, rec, IMPLICIT, params)
        token = params.get("access_token")
        if not token or params.get("token_type", "").lower() != "bearer":
            raise FlowError("No access token", "The fragment carried no bearer access token.")
        expires_in = params.get("expires_in", "")
        browser.grants = {
            **browser.grants,
            IMPLICIT: {
                "access_token": token,
                "refresh_token": None,
                "scope": params.get("scope", ""),
                "expires_at": time.time() + int(expires_in) if expires_in.isdigit() else None,
                "info": {},
            },
        }
        browser.renew()
        rec.jwt(token, tutorial="Step 5")
        call = ctx.resources.call("GET", "/v2/account", token=token)
        rec.api(
            call,
            token=token,
            text="The token from the fragment works on the API.",
            tutorial="Step 6",
        )
    finally:
        keep(browser, rec)


# -- Using the tokens -----------------------------------------------------------------------


def _client_for(ctx: ClientContext, key: str) -> TokenClient:
    return {CODE: ctx.code_client, PASSWORD: ctx.trusted_client}.get(key, ctx.code_client)


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
    """Call with the stored access token; on 401 invalid_token, refresh (rotation) and retry
    once (RFC 6749 §6)."""
    grant = browser.grants.get(key)
    if not grant:
        raise NotConnectedError()
    api = api or ctx.resources
    rec = recorder(browser, key)
    try:
        call = api.call(method, path, token=grant["access_token"], json=json, params=params)
        rec.api(call, token=grant["access_token"], tutorial="Step 6")
        logger.info("%s flow: %s %s -> %s", key, method, path, call.status)
        if call.token_rejected and grant.get("refresh_token"):
            rec.note(
                "The access token was refused",
                f"The API answered 401 invalid_token ({call.error_description or 'no detail'}). "
                "Access tokens are short-lived; Dropletbook uses its refresh token to get a new "
                "one, then retries the call once.",
                tutorial="Step 7",
                ok=False,
            )
            logger.info("%s flow: access token refused (invalid_token); refreshing", key)
            new_grant = _refresh(ctx, browser, rec, key, grant)
            call = api.call(method, path, token=new_grant["access_token"], json=json, params=params)
            rec.api(
                call,
                token=new_grant["access_token"],
                text="Retried once with the new access token.",
                tutorial="Step 7",
            )
        return call
    finally:
        keep(browser, rec)


def _refresh(
    ctx: ClientContext, browser: BrowserSession, rec: Recorder, key: str, grant: dict[str, Any]
) -> dict[str, Any]:
    try:
        result = _client_for(ctx, key).refresh(refresh_token=grant["refresh_token"])
    except TokenRequestError as exc:
        rec.exchange("Refresh refused", exc.exchange, text="", tutorial="Step 7")
        _drop_grant(browser, key)
        raise FlowError(
            "Your authorization has ended",
            f"Droplet Cloud refused Dropletbook's refresh token ({exc.error}): the access was "
            "revoked or has expired. Connect again to continue.",
            status=401,
        ) from None
    except AuthorizationServerUnreachableError as exc:
        raise unreachable(ctx.settings.issuer, exc.reason) from None
    rec.exchange(
        "Refresh the access token (rotation)",
        result.exchange,
        text="Dropletbook posts its refresh token to the token endpoint. Droplet Cloud rotates "
        "it: the answer has a new access token and a new refresh token, and the old refresh "
        "token stops working (reusing it would revoke the whole grant).",
        tutorial="Step 7",
    )
    _store_grant(browser, key, result, previous=grant)
    new_grant: dict[str, Any] = browser.grants[key]
    return new_grant


def disconnect(ctx: ClientContext, browser: BrowserSession) -> None:
    """Revoke the refresh token (and with it the grant) and the access token (RFC 7009)."""
    grant = browser.grants.get(CODE)
    if not grant:
        return
    rec = recorder(browser, CODE)
    try:
        for hint in ("refresh_token", "access_token"):
            token = grant.get(hint)
            if not token:
                continue
            try:
                exchange = ctx.code_client.revoke(token=token, token_type_hint=hint)
            except TokenRequestError as exc:
                exchange = exc.exchange
            except AuthorizationServerUnreachableError as exc:
                raise unreachable(ctx.settings.issuer, exc.reason) from None
            rec.exchange(
                f"Disconnect: revoke the {hint.replace('_', ' ')}",
                exchange,
                text="RFC 7009 revocation. Revoking the refresh token ends the whole grant; the "
                "resource server learns of revoked access tokens within seconds.",
                tutorial="Disconnect",
            )
        _drop_grant(browser, CODE)
        browser.renew()
        logger.info("code flow: disconnected, tokens revoked")
        browser.notice = "Disconnected: Dropletbook revoked its tokens and forgot them."
    finally:
        keep(browser, rec)


# -- Password and client credentials ----------------------------------------------------------


def password_grant(
    ctx: ClientContext, browser: BrowserSession, *, username: str, password: str, scope: str
) -> None:
    rec = recorder(browser, PASSWORD, fresh=True)
    rec.note(
        "The user types the password into the app",
        "With this grant the app itself collects the user's Droplet Cloud password, so only a "
        "trusted, first-party app may use it (Dropletbook's trusted client, "
        f"{ctx.settings.trusted_client_id}). Prefer the authorization code flow.",
        tutorial="Password grant",
    )
    try:
        try:
            result = ctx.trusted_client.password(username=username, password=password, scope=scope)
        except TokenRequestError as exc:
            rec.exchange("Token request refused", exc.exchange, text="")
            message = (
                "Wrong email or password."
                if exc.error == "invalid_grant"
                else f"Droplet Cloud answered {exc.error}: {exc.description}"
            )
            raise FlowError("Password grant refused", message, back="/password") from None
        except AuthorizationServerUnreachableError as exc:
            raise unreachable(ctx.settings.issuer, exc.reason) from None
        rec.exchange(
            "Token request with the user's password",
            result.exchange,
            text="Dropletbook posts the user's email and password with its own client "
            "credentials to the token endpoint.",
        )
        rec.jwt(result.tokens.access_token)
        _store_grant(browser, PASSWORD, result)
        browser.renew()
    finally:
        keep(browser, rec)


APPS_SELF = "/v1/apps/self"


def service_token(
    ctx: ClientContext, browser: BrowserSession, *, scope: str, resource: str | None = None
) -> None:
    rec = recorder(browser, SERVICE, fresh=True)
    rec.note(
        "The app acts on its own account",
        "No user is involved: Dropletbook authenticates as itself "
        f"({ctx.settings.service_client_id}) and gets a token whose subject is the app.",
        tutorial="Client credentials",
    )
    try:
        try:
            result = ctx.service_client.client_credentials(scope=scope, resource=resource)
        except TokenRequestError as exc:
            rec.exchange("Token request refused", exc.exchange, text="")
            raise FlowError(
                "Client credentials refused",
                f"Droplet Cloud answered {exc.error}: {exc.description}",
                back="/client-credentials",
            ) from None
        except AuthorizationServerUnreachableError as exc:
            raise unreachable(ctx.settings.issuer, exc.reason) from None
        rec.exchange(
            "Token request with the app's own credentials",
            result.exchange,
            text="grant_type=client_credentials: the token endpoint only needs the client's "
            "id and secret. No refresh token is issued; the app simply asks again. "
            "resource (RFC 8707) names the API the token is for, here Droplet Cloud's own "
            "app API: its aud admits it there and nowhere else.",
        )
        rec.jwt(result.tokens.access_token)
        _store_grant(browser, SERVICE, result)
        browser.renew()
    finally:
        keep(browser, rec)


def read_registration(ctx: ClientContext, browser: BrowserSession) -> ApiCall:
    return call_api(ctx, browser, "GET", APPS_SELF, key=SERVICE, api=ctx.apps)


def update_registration(
    ctx: ClientContext, browser: BrowserSession, *, description: str, redirect_uris: list[str]
) -> ApiCall:
    body = {"description": description, "redirect_uris": redirect_uris}
    return call_api(ctx, browser, "PATCH", APPS_SELF, key=SERVICE, json=body, api=ctx.apps)
