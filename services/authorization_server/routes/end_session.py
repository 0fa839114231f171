"""RP-Initiated Logout 1.0: the end-session endpoint (GET or POST from the client), its
confirmation page, and the confirmed sign-out (a CSRF-protected form)."""

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep, run_sync
from services.authorization_server.models import Client
from services.authorization_server.oidc.discovery import END_SESSION_PATH
from services.authorization_server.oidc.logout import LogoutRequest, check_logout_request
from services.authorization_server.pages import render, render_error, see_other, url_host
from services.authorization_server.request_body import read_page_form
from services.authorization_server.web_session import (
    CsrfForm,
    OptionalUser,
    end_session,
)
from shared.errors import OAuthError

router = APIRouter(tags=["pages"], include_in_schema=False)
CONFIRM_PATH = f"{END_SESSION_PATH}/confirm"


def _check(session: Session, params: dict[str, str], context: ServerContext) -> LogoutRequest:
    def load_client(client_id: str) -> Client | None:
        return repository.get_client(session=session, client_id=client_id)

    return check_logout_request(
        params, load_client=load_client, keys=context.keys, issuer=context.settings.issuer
    )


def _signed_out(request: Request, logout: LogoutRequest) -> Response:
    target = logout.redirect()
    if target is not None:
        return see_other(target)
    return render(request, "signed_out.html", {"user": None, "client": logout.client})


async def _params(request: Request, context: ServerContext) -> dict[str, str]:
    if request.method == "POST":
        form = await read_page_form(request, max_bytes=context.settings.max_body_bytes)
        return dict(form.pairs)
    return dict(request.query_params)


@router.api_route(END_SESSION_PATH, methods=["GET", "POST"])
async def end_session_request(
    request: Request, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    """The client's logout request (§2): asks the signed-in user to confirm."""
    try:
        params = await _params(request, context)
        logout = await run_sync(session, _check, params, context)
    except OAuthError as error:
        return render_error(request, error)
    if user is None:  # nothing to end
        return _signed_out(request, logout)
    page = {
        "user": user,
        "client": logout.client,
        "params": logout.form_parameters(),
        "action": CONFIRM_PATH,
        "redirect_host": url_host(logout.post_logout_redirect_uri or ""),
    }
    return render(request, "end_session.html", page)


@router.post(CONFIRM_PATH)
async def confirm_end_session(
    request: Request, context: ContextDep, session: SessionDep, form: CsrfForm
) -> Response:
    """The user confirmed: end the session here, then back to the client (§3) or a page."""
    try:
        logout = await run_sync(session, _check, dict(form.pairs), context)
    except OAuthError as error:
        return render_error(request, error)
    response = _signed_out(request, logout)
    await run_sync(session, end_session, request, response, settings=context.settings)
    return response
