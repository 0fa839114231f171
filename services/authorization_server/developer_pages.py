"""The developer portal's page building blocks: app paths, the owner check, the app and form
pages, the one-time secret reveal, and the login-first rule of every page POST."""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import Request
from sqlmodel import Session
from starlette.responses import Response

from services.authorization_server import repository
from services.authorization_server.client_rules import CLIENT_TYPES
from services.authorization_server.context import ServerContext
from services.authorization_server.grants import GRANTS
from services.authorization_server.models import Client, User
from services.authorization_server.oidc.portal import (
    ALGORITHM_CHOICES,
    oidc_client_values,
    oidc_form_values,
)
from services.authorization_server.pages import render, see_other
from services.authorization_server.request_body import PageForm

APPS_PATH = "/developer/apps"
REVEAL_COOKIE = "as_new_secret"
_REVEAL_COOKIE_TTL = 300


def app_path(client_id: str, action: str = "") -> str:
    path = f"{APPS_PATH}/{quote(client_id, safe='')}"
    return f"{path}/{action}" if action else path


def login_redirect(request: Request) -> Response:
    """To the login page, and back here after it (to the app list when this was a POST)."""
    target = request.url.path if request.method == "GET" else APPS_PATH
    return see_other(f"/login?next={quote(target, safe='')}")


def owned(session: Session, user: User, client_id: str) -> Client | None:
    client = repository.get_client(session=session, client_id=client_id)
    return client if client is not None and client.owner_id == user.id else None


def owned_page(
    request: Request, session: Session, user: User | None, client_id: str
) -> tuple[User, Client] | Response:
    """The logged-in user and their app, or the page to answer instead (login, not found)."""
    if user is None:
        return login_redirect(request)
    client = owned(session, user, client_id)
    if client is None:
        return not_found(request, user)
    return user, client


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


# Page POSTs: the CSRF-checked form first (`CsrfForm`), then the user, then the action.
Action = Callable[[Request, ServerContext, Session, User, PageForm], Response]


def run_action(
    request: Request,
    context: ServerContext,
    session: Session,
    user: User | None,
    form: PageForm,
    action: Action,
) -> Response:
    if user is None:
        return login_redirect(request)
    return action(request, context, session, user, form)
