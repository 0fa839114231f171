"""Authorization endpoint: checks, login, the consent screen and the redirect back."""

from collections.abc import Sequence
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from services.authorization_server import repository
from services.authorization_server.authorization_response import (
    has_consent,
    record_consent,
    redirect_url,
    response_parameters,
)
from services.authorization_server.authorize import (
    AuthorizationRedirectError,
    AuthorizationRequest,
    error_parameters,
    validate_request,
)
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep
from services.authorization_server.models import Client, User
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
    current_user,
)
from shared.errors import AccessDeniedError, OAuthError

router = APIRouter(tags=["pages"])
AUTHORIZE_PATH = "/v1/oauth/authorize"


def _redirect(url: str) -> Response:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return RedirectResponse(url, status_code=303, headers=headers)


def _validate(
    items: Sequence[tuple[str, str]], context: ServerContext, session: Session
) -> AuthorizationRequest:
    def load_client(client_id: str) -> Client | None:
        return repository.get_client(session=session, client_id=client_id)

    return validate_request(items, load_client=load_client, settings=context.settings)


def _error_redirect(error: AuthorizationRedirectError, issuer: str) -> Response:
    params = error_parameters(error.error)
    if error.state is not None:
        params["state"] = error.state
    params["iss"] = issuer
    return _redirect(redirect_url(error.redirect_uri, params, fragment=error.fragment))


def _login_redirect(request: AuthorizationRequest) -> Response:
    next_url = f"{AUTHORIZE_PATH}?{urlencode(request.form_parameters())}"
    return _redirect(f"/login?next={quote(next_url, safe='')}")


def _approve(
    session: Session, context: ServerContext, user: User, request: AuthorizationRequest
) -> Response:
    grant = context.grants[request.grant_type]
    params = grant.respond(session, user=user, request=request)
    session.commit()
    params = response_parameters(request, params, issuer=context.settings.issuer)
    return _redirect(redirect_url(request.redirect_uri, params, fragment=request.uses_fragment))


@router.get(AUTHORIZE_PATH, summary="Authorization endpoint (RFC 6749 §3.1)")
def authorize(
    request: Request, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    """Start an authorization: `response_type=code` (PKCE S256) or `token` (implicit).
    Logs the user in if needed, then shows the consent screen unless already consented."""
    try:
        auth_request = _validate(request.query_params.multi_items(), context, session)
    except AuthorizationRedirectError as error:
        return _error_redirect(error, context.settings.issuer)
    except OAuthError as error:
        return render_error(request, error)
    if user is None:
        return _login_redirect(auth_request)
    if has_consent(session, user=user, request=auth_request):
        return _approve(session, context, user, auth_request)
    labels = [context.settings.scopes[name] for name in auth_request.scope.split(" ")]
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
            "redirect_host": url_host(auth_request.redirect_uri),
        },
    )


@router.post(AUTHORIZE_PATH, summary="Consent decision", include_in_schema=False)
async def decide(request: Request) -> Response:
    context: ServerContext = request.app.state.context
    throttle, failures = context.throttle, ip_key("consent", client_ip(request))
    try:
        await throttle.check(failures)
        form = await read_form(request, max_bytes=context.settings.max_body_bytes)
    except TooManyAttemptsError as error:
        return render_too_many(request, error)
    except OAuthError as error:
        return render_error(request, error)
    try:
        return await run_in_threadpool(_decide, request, context, form)
    except CsrfError as error:  # a forged or stale form: counts against the IP
        try:
            await throttle.failed((throttle.policy.ip, failures))
        except TooManyAttemptsError as too_many:
            return render_too_many(request, too_many)
        return render_error(request, error)


def _decide(request: Request, context: ServerContext, form: dict[str, str]) -> Response:
    decision = form.pop("decision", None)
    csrf = form.pop("csrf_token", None)
    with Session(context.engine, expire_on_commit=False) as session:
        try:
            auth_request = _validate(list(form.items()), context, session)
        except AuthorizationRedirectError as error:
            return _error_redirect(error, context.settings.issuer)
        except OAuthError as error:
            return render_error(request, error)
        user = current_user(request, context, session)
        if user is None:  # logged out since the page: its token died with the session
            return _login_redirect(auth_request)
        # Bound to the session, so checked once there is one (web_session).
        check_csrf(request, context.settings, csrf)
        if decision == "approve":
            record_consent(session, user=user, request=auth_request)
            return _approve(session, context, user, auth_request)
        denied = AuthorizationRedirectError(
            AccessDeniedError("the user denied the request"),
            redirect_uri=auth_request.redirect_uri,
            state=auth_request.state,
            fragment=auth_request.uses_fragment,
        )
        return _error_redirect(denied, context.settings.issuer)
