"""The developer portal's page building blocks: app paths, the logged-in user of its pages,
the owner check, the app, form and confirmation pages, and the one-time secret reveal."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from services.authorization_server import repository
from services.authorization_server.client_rules import CLIENT_TYPES
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import run_sync
from services.authorization_server.grants import GRANTS
from services.authorization_server.models import Client, User
from services.authorization_server.oidc.portal import (
    ALGORITHM_CHOICES,
    oidc_client_values,
    oidc_form_values,
)
from services.authorization_server.pages import render, render_confirm
from services.authorization_server.request_body import PageForm
from services.authorization_server.web_session import login_first
from shared.crypto import digest_matches

APPS_PATH = "/developer/apps"
REVEAL_COOKIE = "as_new_secret"
_REVEAL_COOKIE_TTL = 300


def app_path(client_id: str, action: str = "") -> str:
    path = f"{APPS_PATH}/{quote(client_id, safe='')}"
    return f"{path}/{action}" if action else path


# Nobody's page goes to the login page, and back to it after (to the app list for a POST).
PortalUser = Annotated[User, Depends(login_first(home=APPS_PATH))]


def owned(session: Session, user: User, client_id: str) -> Client | None:
    client = repository.get_client(session=session, client_id=client_id)
    return client if client is not None and client.owner_id == user.id else None


AppPage = Callable[[Request, User, Client], Response]


async def owned_page(
    request: Request, session: AsyncSession, user: User, client_id: str, page: AppPage
) -> Response:
    """`page` about one of the logged-in user's apps, or not found."""
    client = await run_sync(session, owned, user, client_id)
    if client is None:
        return not_found(request, user)
    return page(request, user, client)


def not_found(request: Request, user: User) -> Response:
    return render(request, "developer_not_found.html", {"user": user}, status=404)


def with_secret(response: Response, context: ServerContext, client_id: str, secret: str) -> None:
    response.set_cookie(
        REVEAL_COOKIE,
        secret,
        max_age=_REVEAL_COOKIE_TTL,
        path=app_path(client_id),
        httponly=True,
        samesite="strict",
        secure=context.settings.secure_cookies,
    )


def reveal_page(request: Request, user: User, client: Client) -> Response:
    """The app's page, showing the secret `with_secret` sent it, once."""
    secret = request.cookies.get(REVEAL_COOKIE)
    stored = client.client_secret_hash
    if not (secret and stored and digest_matches(secret, stored)):
        secret = None  # stale (rotated again since) or not ours: never shown
    response = app_page(request, user, client, secret=secret)
    if REVEAL_COOKIE in request.cookies:
        response.delete_cookie(REVEAL_COOKIE, path=app_path(client.client_id))
    return response


def app_page(
    request: Request,
    user: User,
    client: Client,
    *,
    secret: str | None = None,
    error: str | None = None,
) -> Response:
    page = {"user": user, "client": client, "secret": secret, "error": error}
    page["path"] = app_path(client.client_id)
    return render(request, "developer_app.html", page, status=400 if error else 200)


@dataclass(frozen=True)
class Confirmation:
    """A confirmation page about an app (`render_confirm`); `{name}` and `{client_id}` in
    its title and question are the app's."""

    title: str
    question: str
    consequences: tuple[str, ...]
    button: str

    def page(self, request: Request, user: User, client: Client) -> Response:
        names = {"name": client.name, "client_id": client.client_id}
        return render_confirm(
            request,
            user,
            title=self.title.format(**names),
            question=self.question.format(**names),
            consequences=list(self.consequences),
            button=self.button,
            cancel=app_path(client.client_id),
        )


ROTATE_CONFIRMATION = Confirmation(
    title="Rotate the secret of {name}?",
    question="A new client secret is issued and shown to you once.",
    consequences=(
        "The current secret stops working at once: token requests made with it fail.",
        "Tokens already issued keep working.",
        "Put the new secret in the application's configuration right away.",
    ),
    button="Rotate secret",
)
DELETE_CONFIRMATION = Confirmation(
    title="Delete {name}?",
    question="The application {name} ({client_id}) is removed for good.",
    consequences=(
        "Its client ID and secret stop working at once.",
        "Every token issued to it stops working.",
        "Every authorization users gave it ends.",
        "This cannot be undone.",
    ),
    button="Delete",
)


def form_values(form: PageForm) -> dict[str, Any]:
    return {
        "name": form.get("name"),
        "website": form.get("website"),
        "description": form.get("description"),
        "redirect_uris": form.get("redirect_uris"),
        "client_type": form.get("client_type", "confidential"),
        "grant_types": form.getlist("grant_types"),
        **oidc_form_values(form),
    }


def client_values(client: Client) -> dict[str, Any]:
    return {
        "name": client.name,
        "website": client.website,
        "description": client.description,
        "redirect_uris": "\n".join(client.redirect_uris),
        "client_type": client.client_type,
        "grant_types": list(client.grant_types),
        **oidc_client_values(client),
    }


def form_page(
    request: Request,
    user: User,
    values: dict[str, Any],
    *,
    client: Client | None = None,
    error: str | None = None,
) -> Response:
    page = {
        "user": user,
        "client": client,
        "values": values,
        "error": error,
        "grant_type_choices": list(GRANTS.values()),
        "oidc_algorithms": ALGORITHM_CHOICES,
        "client_types": CLIENT_TYPES,
        "action": app_path(client.client_id, "edit") if client else f"{APPS_PATH}/new",
        "path": app_path(client.client_id) if client else APPS_PATH,
    }
    return render(request, "developer_app_form.html", page, status=400 if error else 200)


@dataclass(frozen=True)
class PagePost:
    """A logged-in user's page POST, its form CSRF-checked (`CsrfForm`), with the sync
    session its action runs in (`deps.run_sync`)."""

    session: Session
    request: Request
    context: ServerContext
    user: User
    form: PageForm


Action = Callable[[PagePost], Response]
AppAction = Callable[[PagePost, Client], Response]


async def run_action(
    request: Request,
    context: ServerContext,
    session: AsyncSession,
    user: User,
    form: PageForm,
    action: Action,
) -> Response:
    """`action` in the sync session (`deps.run_sync`)."""

    def act(sync_session: Session) -> Response:
        return action(PagePost(sync_session, request, context, user, form))

    return await run_sync(session, act)


async def run_app_action(
    request: Request,
    context: ServerContext,
    session: AsyncSession,
    user: User,
    form: PageForm,
    action: AppAction,
) -> Response:
    """`run_action` on one of the user's apps, the path's `client_id` (404 for others')."""

    def on_app(post: PagePost) -> Response:
        client = owned(post.session, post.user, request.path_params["client_id"])
        if client is None:
            return not_found(request, post.user)
        return action(post, client)

    return await run_action(request, context, session, user, form, on_app)
