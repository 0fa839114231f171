"""The user's authorized applications, with "Revoke access" (`user_grants`).

Revoking asks first: a GET of its path is a confirmation page whose form POSTs (with CSRF)
to it, and the list then says what was revoked."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session
from starlette.responses import Response

from services.authorization_server.deps import ContextDep, SessionDep, run_sync
from services.authorization_server.models import User
from services.authorization_server.oidc.claims import scope_labels
from services.authorization_server.pages import (
    render,
    render_confirm,
    see_other,
    website_link,
    with_notice,
)
from services.authorization_server.user_grants import (
    AuthorizedApplication,
    authorized_applications,
    revoke_application,
)
from services.authorization_server.web_session import TO_LOGIN, CsrfForm, login_first
from shared.openapi import form_post, html_page

router = APIRouter(tags=["pages"])

APPLICATIONS_PATH = "/account/applications"
# Nobody's page goes to the login page, and back to the list after it.
AccountUser = Annotated[User, Depends(login_first(home=APPLICATIONS_PATH, pages_return=False))]


@router.get(
    APPLICATIONS_PATH,
    summary="Account page: the apps the user authorized",
    **html_page("The authorized apps, each with Revoke access", redirects=TO_LOGIN),
)
async def applications(
    request: Request, context: ContextDep, session: SessionDep, user: AccountUser
) -> Response:
    labels = scope_labels(context.settings.scopes)
    apps = await run_sync(session, authorized_applications, user_id=user.id)
    rows = [_row(app, labels) for app in apps]
    return render(request, "account_applications.html", {"user": user, "rows": rows})


def _row(app: AuthorizedApplication, labels: dict[str, str]) -> dict[str, Any]:
    client_id = app.client.client_id
    return {
        "client": app.client,
        "since": app.since,
        "website": website_link(app.client.website),
        "revoke": f"{APPLICATIONS_PATH}/{quote(client_id, safe='')}/revoke",
        "permissions": [labels.get(name, name) for name in sorted(app.scopes)],
    }


def _authorized(session: Session, user: User, client_id: str) -> AuthorizedApplication | None:
    apps = authorized_applications(session, user_id=user.id)
    return next((app for app in apps if app.client.client_id == client_id), None)


@router.get(
    f"{APPLICATIONS_PATH}/{{client_id}}/revoke",
    summary="Account page: confirm revoking an app's access",
    **html_page(
        "Revoke this app's access?", errors={404: "The app has no access"}, redirects=TO_LOGIN
    ),
)
async def confirm_revoke(
    request: Request, client_id: str, session: SessionDep, user: AccountUser
) -> Response:
    app = await run_sync(session, _authorized, user, client_id)
    if app is None:
        page = {"user": user}
        return render(request, "account_not_authorized.html", page, status=404)
    name = app.client.name
    return render_confirm(
        request,
        user,
        title=f"Revoke {name}'s access?",
        question=f"{name} can no longer access your account, {user.email}.",
        consequences=[
            "Its tokens stop working at once.",
            "To reconnect, it must ask for your permission again.",
        ],
        button="Revoke access",
        cancel=APPLICATIONS_PATH,
    )


@router.post(
    f"{APPLICATIONS_PATH}/{{client_id}}/revoke",
    summary="Revoke an app's access (the confirmation form)",
    **form_post(f"Done: to {APPLICATIONS_PATH}, which says so; or {TO_LOGIN.lower()}"),
)
async def revoke(
    request: Request, client_id: str, form: CsrfForm, session: SessionDep, user: AccountUser
) -> Response:
    name = await run_sync(session, _revoke, user, client_id)
    response = see_other(APPLICATIONS_PATH)
    if name is None:  # nothing was authorized: nothing to report
        return response
    notice = f"{name}'s access was revoked."
    return with_notice(request, response, path=APPLICATIONS_PATH, text=notice)


def _revoke(session: Session, user: User, client_id: str) -> str | None:
    """Revoke the app's access; its name, if it had any."""
    app = _authorized(session, user, client_id)
    revoke_application(session, user_id=user.id, client_id=client_id)
    return app.client.name if app is not None else None
