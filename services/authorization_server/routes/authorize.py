"""Authorization endpoint: checks, login, the consent screen and the redirect back.

The protocol decisions are in `authorize` (the checks) and `authorization_response`
(approve, deny, consent); these routes shape pages and redirects.
"""

from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from services.authorization_server import repository
from services.authorization_server.authorization_response import (
    approve,
    decide,
    error_redirect_url,
    has_consent,
)
from services.authorization_server.authorize import (
    AUTHORIZE_PARAMETERS,
    AuthorizationRedirectError,
    AuthorizationRequest,
    validate_request,
)
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep, run_sync
from services.authorization_server.models import Client, User
from services.authorization_server.oidc.claims import scope_labels
from services.authorization_server.oidc.hints import hint_verifier
from services.authorization_server.oidc.interaction import must_ask_consent, must_log_in
from services.authorization_server.pages import (
    render,
    render_error,
    render_too_many,
    url_host,
    website_link,
)
from services.authorization_server.request_body import read_form
from services.authorization_server.throttle import TooManyAttemptsError, client_ip, ip_key
from services.authorization_server.web_session import (
    CsrfError,
    OptionalUser,
    check_csrf,
    session_login,
    session_user,
)
from shared.db import utcnow
from shared.errors import OAuthError
from shared.openapi import form_post, html_pages, query_parameters, redirect

router = APIRouter(tags=["pages"])
AUTHORIZE_PATH = "/v1/oauth/authorize"
# The consent form posts here, not to the authorization endpoint, which is GET only (405).
DECISION_PATH = f"{AUTHORIZE_PATH}/decision"
_REDIRECTS = "to log in; or back to the client's `redirect_uri` with the answer"


def _redirect(url: str) -> Response:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return RedirectResponse(url, status_code=303, headers=headers)


def _validate(
    session: Session, request: Request, items: Sequence[tuple[str, str]], context: ServerContext
) -> AuthorizationRequest | Response:
    """The checked request, or the page or redirect that answers its error."""

    def load_client(client_id: str) -> Client | None:
        return repository.get_client(session=session, client_id=client_id)

    settings = context.settings
    verify_hint = hint_verifier(context.keys, settings.issuer)
    try:
        return validate_request(
            items, load_client=load_client, settings=settings, verify_hint=verify_hint
        )
    except AuthorizationRedirectError as error:
        return _redirect(error_redirect_url(error, issuer=context.settings.issuer))
    except OAuthError as error:
        return render_error(request, error)


def _login_redirect(request: AuthorizationRequest, *, fresh: bool = False) -> Response:
    """To the login page, which comes back here; `fresh`: even with a session (OIDC)."""
    next_url = f"{AUTHORIZE_PATH}?{urlencode(request.form_parameters())}"
    login = {"next": next_url}
    if fresh:
        login["prompt"] = "login"
    if request.oidc is not None and request.oidc.login_hint:
        login["login_hint"] = request.oidc.login_hint
    return _redirect(f"/login?{urlencode(login, quote_via=quote)}")


def _openid_steps(
    session: Session, request: Request, context: ServerContext, auth_request: AuthorizationRequest
) -> Response:
    """An `openid` request's login and consent decisions (oidc/interaction.py), then the
    approval, whose code remembers the login (`auth_time`, `sid`)."""
    oidc = auth_request.oidc
    assert oidc is not None
    login = session_login(session, request, context.settings)
    try:
        if must_log_in(oidc, login, now=utcnow()) or login is None:
            return _login_redirect(auth_request, fresh=True)
        auth_request = replace(auth_request, oidc=oidc.with_login(login))
        user = repository.get_user(session=session, user_id=login.user_id)
        assert user is not None  # the session row cascades with its user
        consented = has_consent(session, user=user, request=auth_request)
        if must_ask_consent(oidc, consented=consented):
            return _consent_page(request, context, user, auth_request)
    except OAuthError as error:
        redirect = AuthorizationRedirectError(
            error,
            redirect_uri=auth_request.redirect_uri,
            state=auth_request.state,
            fragment=auth_request.uses_fragment,
        )
        return _redirect(error_redirect_url(redirect, issuer=context.settings.issuer))
    grant = context.grants[auth_request.grant_type]
    issuer = context.settings.issuer
    return _redirect(approve(session, grant=grant, user=user, request=auth_request, issuer=issuer))


@router.get(
    AUTHORIZE_PATH,
    summary="Authorization endpoint (RFC 6749 §3.1)",
    response_class=HTMLResponse,
    responses={
        **html_pages(
            {
                200: "The consent screen",
                400: "Error page, never a redirect: unknown `client_id`, a `redirect_uri` that"
                " is not registered, or a malformed request",
            }
        ),
        **redirect(f"Redirect {_REDIRECTS} (`code` or, for `token`, the URL fragment)"),
    },
    openapi_extra=query_parameters(AUTHORIZE_PARAMETERS, required=("response_type", "client_id")),
)
async def authorize(
    request: Request, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    """Start an authorization: `response_type=code` (PKCE S256) or `token` (implicit).
    Logs the user in if needed, then shows the consent screen unless already consented."""
    return await run_sync(session, _authorize, request, context, user)


def _authorize(
    session: Session, request: Request, context: ServerContext, user: User | None
) -> Response:
    auth_request = _validate(session, request, request.query_params.multi_items(), context)
    if isinstance(auth_request, Response):
        return auth_request
    if auth_request.oidc is not None:
        return _openid_steps(session, request, context, auth_request)
    if user is None:
        return _login_redirect(auth_request)
    if has_consent(session, user=user, request=auth_request):
        grant = context.grants[auth_request.grant_type]
        issuer = context.settings.issuer
        return _redirect(
            approve(session, grant=grant, user=user, request=auth_request, issuer=issuer)
        )
    return _consent_page(request, context, user, auth_request)


def _consent_page(
    request: Request, context: ServerContext, user: User, auth_request: AuthorizationRequest
) -> Response:
    scopes = scope_labels(context.settings.scopes)
    labels = [scopes[name] for name in auth_request.scope.split(" ")]
    return render(
        request,
        "consent.html",
        {
            "user": user,
            "client": auth_request.client,
            "permissions": labels,
            # Hosts only: userinfo (`https://trusted.example@evil.example/`) must not mislead.
            "website": website_link(auth_request.client.website),
            "params": auth_request.form_parameters(),
            "action": DECISION_PATH,
            "redirect_host": url_host(auth_request.redirect_uri),
        },
    )


@router.post(
    DECISION_PATH,
    summary="The consent screen's answer (an HTML form)",
    **form_post(
        f"Redirect {_REDIRECTS}",
        fields={
            "decision": {"type": "string", "enum": ["approve", "deny"]},
            "client_id": {"type": "string", "description": "and the request's other parameters"},
        },
    ),
)
async def consent_decision(request: Request, context: ContextDep, session: SessionDep) -> Response:
    """The consent form's answer. Its CSRF token is checked once the request and the session
    are (`_decide`), not by `CsrfForm`: a logged-out browser is sent to log in, not refused."""
    throttle, failures = context.throttle, ip_key("consent", client_ip(request))
    try:
        await throttle.check(failures)
        form = await read_form(request, max_bytes=context.settings.max_body_bytes)
    except TooManyAttemptsError as error:
        return render_too_many(request, error)
    except OAuthError as error:
        return render_error(request, error)
    try:
        return await run_sync(session, _decide, request, context, form)
    except CsrfError as error:  # a forged or stale form: counts against the IP
        try:
            await throttle.failed((throttle.policy.ip, failures))
        except TooManyAttemptsError as too_many:
            return render_too_many(request, too_many)
        return render_error(request, error)


def _decide(
    session: Session, request: Request, context: ServerContext, form: dict[str, str]
) -> Response:
    decision = form.pop("decision", None)
    csrf = form.pop("csrf_token", None)
    auth_request = _validate(session, request, list(form.items()), context)
    if isinstance(auth_request, Response):
        return auth_request
    user = session_user(session, request, context.settings)
    if user is None:  # logged out since the page: its token died with the session
        return _login_redirect(auth_request)
    # Bound to the session, so checked once there is one (web_session).
    check_csrf(request, context.settings, csrf)
    if auth_request.oidc is not None:
        login = session_login(session, request, context.settings)
        if login is not None:  # the code remembers when and in which session
            auth_request = replace(auth_request, oidc=auth_request.oidc.with_login(login))
    url = decide(
        session,
        grant=context.grants[auth_request.grant_type],
        user=user,
        request=auth_request,
        approved=decision == "approve",
        issuer=context.settings.issuer,
    )
    return _redirect(url)
