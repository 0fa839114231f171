"""The user's authorized applications, with "Revoke access" (RFC 7009 from the user's side)."""

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from sqlmodel import Session, col, delete
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep
from services.authorization_server.models import AuthorizationCode, User
from services.authorization_server.pages import render, render_error, see_other, website_link
from services.authorization_server.web_forms import read_page_form
from services.authorization_server.web_session import OptionalUser, current_user
from shared.errors import OAuthError
from shared.scopes import parse_scope

router = APIRouter(tags=["pages"], include_in_schema=False)

APPLICATIONS_PATH = "/account/applications"


def revoke_application(session: Session, *, user_id: str, client_id: str) -> None:
    """Forget the consent and revoke every grant the user gave the client, pending codes too."""
    repository.delete_consents(session=session, user_id=user_id, client_id=client_id)
    repository.revoke_client_families(session=session, user_id=user_id, client_id=client_id)
    session.exec(
        delete(AuthorizationCode).where(
            col(AuthorizationCode.user_id) == user_id,
            col(AuthorizationCode.client_id) == client_id,
            col(AuthorizationCode.consumed_at).is_(None),
        )
    )
    session.commit()


@router.get(APPLICATIONS_PATH)
def applications(
    request: Request, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return see_other(f"/login?next={quote(APPLICATIONS_PATH, safe='')}")
    return render(
        request,
        "account_applications.html",
        {"user": user, "rows": _application_rows(session, user, context.settings.scopes)},
    )


def _application_rows(session: Session, user: User, labels: dict[str, str]) -> list[dict[str, Any]]:
    """One row per client: the scopes approved with any response type, since the latest."""
    rows: dict[str, dict[str, Any]] = {}
    for consent, client in repository.list_consents(session=session, user_id=user.id):
        row = rows.setdefault(
            client.client_id,
            {
                "client": client,
                "scopes": set(),
                "since": consent.updated_at,
                "website": website_link(client.website),
                "revoke": f"{APPLICATIONS_PATH}/{quote(client.client_id, safe='')}/revoke",
            },
        )
        row["scopes"] |= parse_scope(consent.scope)
        row["since"] = max(row["since"], consent.updated_at)
    for row in rows.values():
        row["permissions"] = [labels.get(name, name) for name in sorted(row.pop("scopes"))]
    return list(rows.values())


@router.post(f"{APPLICATIONS_PATH}/{{client_id}}/revoke")
async def revoke(request: Request, client_id: str) -> Response:
    context: ServerContext = request.app.state.context
    try:
        await read_page_form(request, context.settings)
    except OAuthError as error:
        return render_error(request, error)
    return await run_in_threadpool(_revoke, request, context, client_id)


def _revoke(request: Request, context: ServerContext, client_id: str) -> Response:
    with Session(context.engine, expire_on_commit=False) as session:
        user = current_user(request, context, session)
        if user is None:
            return see_other(f"/login?next={quote(APPLICATIONS_PATH, safe='')}")
        revoke_application(session, user_id=user.id, client_id=client_id)
    return see_other(APPLICATIONS_PATH)
