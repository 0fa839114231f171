"""The user's authorized applications, with "Revoke access" (`user_grants`)."""

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.authorization_server.deps import ContextDep, SessionDep
from services.authorization_server.pages import render, see_other, website_link
from services.authorization_server.user_grants import (
    AuthorizedApplication,
    authorized_applications,
    revoke_application,
)
from services.authorization_server.web_session import CsrfForm, OptionalUser

router = APIRouter(tags=["pages"], include_in_schema=False)

APPLICATIONS_PATH = "/account/applications"
_LOGIN = f"/login?next={quote(APPLICATIONS_PATH, safe='')}"


@router.get(APPLICATIONS_PATH)
def applications(
    request: Request, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return see_other(_LOGIN)
    labels = context.settings.scopes
    rows = [_row(app, labels) for app in authorized_applications(session, user_id=user.id)]
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


@router.post(f"{APPLICATIONS_PATH}/{{client_id}}/revoke")
def revoke(client_id: str, form: CsrfForm, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return see_other(_LOGIN)
    revoke_application(session, user_id=user.id, client_id=client_id)
    return see_other(APPLICATIONS_PATH)
