"""Developer portal: register, list, view, edit, rotate the secret of and delete apps.

Pages need a logged-in user, who sees and changes only their own apps (others get 404).
Every POST checks CSRF and answers 303. Rotating and deleting ask first: a GET of their path
is a confirmation page whose form POSTs to it, and the next page says what happened.
A new secret is shown once: it travels to the next page in a short-lived, HttpOnly cookie
scoped to that app's page, which the page clears on display and honours only while it
still matches the stored digest.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep
from services.authorization_server.grants import GRANTS
from services.authorization_server.models import Client, User
from services.authorization_server.pages import render, render_confirm, see_other, with_notice
from services.authorization_server.registration import (
    CLIENT_TYPES,
    RegistrationError,
    delete_client,
    register_client,
    rotate_secret,
    update_client,
)
from services.authorization_server.request_body import PageForm
from services.authorization_server.web_session import CsrfForm, OptionalUser
from shared.crypto import digest_matches
from shared.openapi import form_post, html_page
from shared.scopes import format_scope

router = APIRouter(tags=["pages"])

APPS_PATH = "/developer/apps"
REVEAL_COOKIE = "as_new_secret"
_REVEAL_COOKIE_TTL = 300
_TO_LOGIN = "Not logged in: to the login page"
_NOT_FOUND = {404: "No such app among the user's"}
_APP_FIELDS: dict[str, dict[str, Any]] = {
    name: {"type": "string"} for name in ("name", "website", "description", "redirect_uris")
} | {
    "client_type": {"type": "string"},
    "grant_types": {"type": "array", "items": {"type": "string"}},
}


def _app_form(done: str, *, fields: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Route arguments of a form about one of the user's apps (its id in the path)."""
    return form_post(
        f"{done}; or {_TO_LOGIN.lower()}",
        pages=_NOT_FOUND,
        fields=fields or {},
        path_parameters=["client_id"],
    )


def app_path(client_id: str, action: str = "") -> str:
    path = f"{APPS_PATH}/{quote(client_id, safe='')}"
    return f"{path}/{action}" if action else path


def _login_redirect(request: Request) -> Response:
    """To the login page, and back here after it (to the app list when this was a POST)."""
    target = request.url.path if request.method == "GET" else APPS_PATH
    return see_other(f"/login?next={quote(target, safe='')}")


def _owned(session: Session, user: User, client_id: str) -> Client | None:
    client = repository.get_client(session=session, client_id=client_id)
    return client if client is not None and client.owner_id == user.id else None


def _owned_page(
    request: Request, session: Session, user: User | None, client_id: str
) -> tuple[User, Client] | Response:
    """The logged-in user and their app, or the page to answer instead (login, not found)."""
    if user is None:
        return _login_redirect(request)
    client = _owned(session, user, client_id)
    if client is None:
        return _not_found(request, user)
    return user, client


def _not_found(request: Request, user: User) -> Response:
    return render(request, "developer_not_found.html", {"user": user}, status=404)


def _with_secret(response: Response, context: ServerContext, client_id: str, secret: str) -> None:
    response.set_cookie(
        REVEAL_COOKIE,
        secret,
        max_age=_REVEAL_COOKIE_TTL,
        path=app_path(client_id),
        httponly=True,
        samesite="strict",
        secure=context.settings.secure_cookies,
    )


def _app_page(
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


def _form_values(form: PageForm) -> dict[str, Any]:
    return {
        "name": form.get("name"),
        "website": form.get("website"),
        "description": form.get("description"),
        "redirect_uris": form.get("redirect_uris"),
        "client_type": form.get("client_type", "confidential"),
        "grant_types": form.getlist("grant_types"),
    }


def _client_values(client: Client) -> dict[str, Any]:
    return {
        "name": client.name,
        "website": client.website,
        "description": client.description,
        "redirect_uris": "\n".join(client.redirect_uris),
        "client_type": client.client_type,
        "grant_types": list(client.grant_types),
    }


def _form_page(
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
        "client_types": CLIENT_TYPES,
        "action": app_path(client.client_id, "edit") if client else f"{APPS_PATH}/new",
        "path": app_path(client.client_id) if client else APPS_PATH,
    }
    return render(request, "developer_app_form.html", page, status=400 if error else 200)


# Page POSTs: the CSRF-checked form first (`CsrfForm`), then the user, then the action.
_Action = Callable[[Request, ServerContext, Session, User, PageForm], Response]


def _run(
    request: Request,
    context: ServerContext,
    session: Session,
    user: User | None,
    form: PageForm,
    action: _Action,
) -> Response:
    if user is None:
        return _login_redirect(request)
    return action(request, context, session, user, form)


@router.get(
    APPS_PATH,
    summary="Developer portal: the user's apps",
    **html_page("The apps the user registered", redirects=_TO_LOGIN),
)
def list_apps(
    request: Request, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _login_redirect(request)
    clients = repository.list_clients(session=session, owner_id=user.id)
    rows = [(client, app_path(client.client_id)) for client in clients]
    page = {"user": user, "clients": rows, "max_apps": context.settings.max_apps_per_user}
    return render(request, "developer_apps.html", page)


@router.get(
    f"{APPS_PATH}/new",
    summary="Developer portal: the form to register an app",
    **html_page("The registration form", redirects=_TO_LOGIN),
)
def new_app_page(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    values = {"client_type": "confidential", "grant_types": ["authorization_code", "refresh_token"]}
    return _form_page(request, user, values)


@router.post(
    f"{APPS_PATH}/new",
    summary="Register an app (the registration form)",
    **form_post(
        f"Registered: to the app's page, showing its secret once; or {_TO_LOGIN}",
        fields=_APP_FIELDS,
    ),
)
def create_app(
    request: Request, form: CsrfForm, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    return _run(request, context, session, user, form, _create)


def _create(
    request: Request, context: ServerContext, session: Session, user: User, form: PageForm
) -> Response:
    values = _form_values(form)
    try:
        client, secret = register_client(
            session,
            name=values["name"],
            website=values["website"],
            description=values["description"],
            redirect_uris=values["redirect_uris"].splitlines(),
            client_type=values["client_type"],
            grant_types=values["grant_types"],
            scope=format_scope(context.settings.scopes),
            supported_scopes=context.settings.scopes,
            trusted=False,  # only the operator (seed, CLI) marks a client trusted
            owner_id=user.id,
            max_apps=context.settings.max_apps_per_user,
        )
    except RegistrationError as exc:
        return _form_page(request, user, values, error=str(exc))
    response = see_other(app_path(client.client_id))
    if secret is not None:
        _with_secret(response, context, client.client_id, secret)
    return response


@router.get(
    f"{APPS_PATH}/{{client_id}}",
    summary="Developer portal: an app's page",
    **html_page("The app's registration", errors=_NOT_FOUND, redirects=_TO_LOGIN),
)
def view_app(request: Request, client_id: str, session: SessionDep, user: OptionalUser) -> Response:
    found = _owned_page(request, session, user, client_id)
    if isinstance(found, Response):
        return found
    user, client = found
    secret = request.cookies.get(REVEAL_COOKIE)
    stored = client.client_secret_hash
    if not (secret and stored and digest_matches(secret, stored)):
        secret = None  # stale (rotated again since) or not ours: never shown
    response = _app_page(request, user, client, secret=secret)
    if REVEAL_COOKIE in request.cookies:
        response.delete_cookie(REVEAL_COOKIE, path=app_path(client.client_id))
    return response


@router.get(
    f"{APPS_PATH}/{{client_id}}/edit",
    summary="Developer portal: the form to edit an app",
    **html_page("The edit form", errors=_NOT_FOUND, redirects=_TO_LOGIN),
)
def edit_app_page(
    request: Request, client_id: str, session: SessionDep, user: OptionalUser
) -> Response:
    found = _owned_page(request, session, user, client_id)
    if isinstance(found, Response):
        return found
    user, client = found
    return _form_page(request, user, _client_values(client), client=client)


@router.post(
    f"{APPS_PATH}/{{client_id}}/edit",
    summary="Edit an app (the edit form)",
    **_app_form("Saved: to the app's page", fields=_APP_FIELDS),
)
def edit_app(
    request: Request, form: CsrfForm, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    return _run(request, context, session, user, form, _edit)


def _edit(
    request: Request, context: ServerContext, session: Session, user: User, form: PageForm
) -> Response:
    client = _owned(session, user, request.path_params["client_id"])
    if client is None:
        return _not_found(request, user)
    values = {**_form_values(form), "client_type": client.client_type}
    try:
        update_client(
            session,
            client,
            name=values["name"],
            website=values["website"],
            description=values["description"],
            redirect_uris=values["redirect_uris"].splitlines(),
            grant_types=values["grant_types"],
        )
    except RegistrationError as exc:  # nothing was changed: update_client checks first
        return _form_page(request, user, values, client=client, error=str(exc))
    context.clients.invalidate(client.client_id)
    return see_other(app_path(client.client_id))


@router.get(
    f"{APPS_PATH}/{{client_id}}/rotate-secret",
    summary="Developer portal: confirm rotating an app's secret",
    **html_page("Rotate the secret?", errors=_NOT_FOUND, redirects=_TO_LOGIN),
)
def confirm_rotate_secret(
    request: Request, client_id: str, session: SessionDep, user: OptionalUser
) -> Response:
    found = _owned_page(request, session, user, client_id)
    if isinstance(found, Response):
        return found
    user, client = found
    if client.is_public:
        return _app_page(request, user, client, error="Public clients have no secret to rotate.")
    return render_confirm(
        request,
        user,
        title=f"Rotate the secret of {client.name}?",
        question="A new client secret is issued and shown to you once.",
        consequences=[
            "The current secret stops working at once: token requests made with it fail.",
            "Tokens already issued keep working.",
            "Put the new secret in the application's configuration right away.",
        ],
        button="Rotate secret",
        cancel=app_path(client.client_id),
    )


@router.post(
    f"{APPS_PATH}/{{client_id}}/rotate-secret",
    summary="Rotate an app's secret (the confirmation form)",
    **_app_form("Rotated: to the app's page, showing the new secret once"),
)
def rotate_app_secret(
    request: Request, form: CsrfForm, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    return _run(request, context, session, user, form, _rotate)


def _rotate(
    request: Request, context: ServerContext, session: Session, user: User, form: PageForm
) -> Response:
    client = _owned(session, user, request.path_params["client_id"])
    if client is None:
        return _not_found(request, user)
    try:
        secret = rotate_secret(session, client)
    except RegistrationError as exc:
        return _app_page(request, user, client, error=str(exc))
    context.clients.invalidate(client.client_id)
    response = see_other(app_path(client.client_id))
    _with_secret(response, context, client.client_id, secret)
    notice = "A new secret was issued: copy it now. The old one no longer works."
    return with_notice(request, response, path=app_path(client.client_id), text=notice)


@router.get(
    f"{APPS_PATH}/{{client_id}}/delete",
    summary="Developer portal: confirm deleting an app",
    **html_page("Delete the app?", errors=_NOT_FOUND, redirects=_TO_LOGIN),
)
def confirm_delete_app(
    request: Request, client_id: str, session: SessionDep, user: OptionalUser
) -> Response:
    found = _owned_page(request, session, user, client_id)
    if isinstance(found, Response):
        return found
    user, client = found
    return render_confirm(
        request,
        user,
        title=f"Delete {client.name}?",
        question=f"The application {client.name} ({client.client_id}) is removed for good.",
        consequences=[
            "Its client ID and secret stop working at once.",
            "Every token issued to it stops working.",
            "Every authorization users gave it ends.",
            "This cannot be undone.",
        ],
        button="Delete",
        cancel=app_path(client.client_id),
    )


@router.post(
    f"{APPS_PATH}/{{client_id}}/delete",
    summary="Delete an app (the confirmation form)",
    **_app_form("Deleted: to the app list, which says so"),
)
def delete_app(
    request: Request, form: CsrfForm, context: ContextDep, session: SessionDep, user: OptionalUser
) -> Response:
    return _run(request, context, session, user, form, _delete)


def _delete(
    request: Request, context: ServerContext, session: Session, user: User, form: PageForm
) -> Response:
    client = _owned(session, user, request.path_params["client_id"])
    if client is None:
        return _not_found(request, user)
    name, client_id = client.name, client.client_id  # the row is gone after the delete
    delete_client(
        session,
        client,
        access_token_ttl=context.settings.access_token_ttl,
        client_cache_ttl=context.settings.client_cache_ttl,
    )
    context.clients.invalidate(client_id)
    notice = f"{name} was deleted; its tokens no longer work."
    return with_notice(request, see_other(APPS_PATH), path=APPS_PATH, text=notice)
