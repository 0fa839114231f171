"""Developer portal: register, list, view, edit, rotate the secret of and delete apps.

Pages need a logged-in user, who sees and changes only their own apps (others get 404).
Every POST checks CSRF and answers 303. Rotating and deleting ask first: a GET of their path
is a confirmation page whose form POSTs to it, and the next page says what happened.
A new secret is shown once: it travels to the next page in a short-lived, HttpOnly cookie
scoped to that app's page, which the page clears on display and honours only while it
still matches the stored digest.
"""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.authorization_server import repository
from services.authorization_server.deps import ContextDep, SessionDep, run_sync
from services.authorization_server.developer_pages import (
    APPS_PATH,
    DELETE_CONFIRMATION,
    ROTATE_CONFIRMATION,
    AppAction,
    AppPage,
    PagePost,
    PortalUser,
    app_page,
    app_path,
    client_values,
    form_page,
    form_values,
    owned_page,
    reveal_page,
    run_action,
    run_app_action,
    with_secret,
)
from services.authorization_server.models import Client, User
from services.authorization_server.oidc.portal import oidc_columns
from services.authorization_server.pages import render, see_other, with_notice
from services.authorization_server.registration import (
    RegistrationError,
    delete_client,
    register_client,
    rotate_secret,
    update_client,
)
from services.authorization_server.web_session import TO_LOGIN, CsrfForm
from shared.openapi import form_post, html_page
from shared.scopes import format_scope

router = APIRouter(tags=["pages"])

_NOT_FOUND = {404: "No such app among the user's"}
_APP_PATH = f"{APPS_PATH}/{{client_id}}"
_APP_FIELDS: dict[str, dict[str, Any]] = {
    name: {"type": "string"} for name in ("name", "website", "description", "redirect_uris")
} | {
    "client_type": {"type": "string"},
    "grant_types": {"type": "array", "items": {"type": "string"}},
}


def _app_page(path: str, page: AppPage, *, name: str, summary: str, description: str) -> None:
    """Route GET `path`, a page about one of the user's apps (`owned_page`). `name` is the
    route's name, hence its OpenAPI operationId."""

    async def endpoint(
        request: Request, client_id: str, session: SessionDep, user: PortalUser
    ) -> Response:
        return await owned_page(request, session, user, client_id, page)

    route = html_page(description, errors=_NOT_FOUND, redirects=TO_LOGIN)
    router.add_api_route(path, endpoint, methods=["GET"], name=name, summary=summary, **route)


def _app_post(
    path: str,
    action: AppAction,
    *,
    name: str,
    summary: str,
    done: str,
    fields: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Route POST `path`, a form about one of the user's apps (`run_app_action`)."""

    async def endpoint(
        request: Request,
        form: CsrfForm,
        context: ContextDep,
        session: SessionDep,
        user: PortalUser,
    ) -> Response:
        return await run_app_action(request, context, session, user, form, action)

    route = form_post(
        f"{done}; or {TO_LOGIN.lower()}",
        pages=_NOT_FOUND,
        fields=fields or {},
        path_parameters=["client_id"],
    )
    router.add_api_route(path, endpoint, methods=["POST"], name=name, summary=summary, **route)


@router.get(
    APPS_PATH,
    summary="Developer portal: the user's apps",
    **html_page("The apps the user registered", redirects=TO_LOGIN),
)
async def list_apps(
    request: Request, context: ContextDep, session: SessionDep, user: PortalUser
) -> Response:
    clients = await run_sync(
        session, lambda s: repository.list_clients(session=s, owner_id=user.id)
    )
    rows = [(client, app_path(client.client_id)) for client in clients]
    page = {"user": user, "clients": rows, "max_apps": context.settings.max_apps_per_user}
    return render(request, "developer_apps.html", page)


@router.get(
    f"{APPS_PATH}/new",
    summary="Developer portal: the form to register an app",
    **html_page("The registration form", redirects=TO_LOGIN),
)
async def new_app_page(request: Request, user: PortalUser) -> Response:
    values = {"client_type": "confidential", "grant_types": ["authorization_code", "refresh_token"]}
    return form_page(request, user, values)


@router.post(
    f"{APPS_PATH}/new",
    summary="Register an app (the registration form)",
    **form_post(
        f"Registered: to the app's page, showing its secret once; or {TO_LOGIN}",
        fields=_APP_FIELDS,
    ),
)
async def create_app(
    request: Request, form: CsrfForm, context: ContextDep, session: SessionDep, user: PortalUser
) -> Response:
    return await run_action(request, context, session, user, form, _create)


def _create(post: PagePost) -> Response:
    values = form_values(post.form)
    settings = post.context.settings
    try:
        client, secret = register_client(
            post.session,
            name=values["name"],
            website=values["website"],
            description=values["description"],
            redirect_uris=values["redirect_uris"].splitlines(),
            client_type=values["client_type"],
            grant_types=values["grant_types"],
            scope=format_scope(settings.scopes),
            supported_scopes=settings.scopes,
            trusted=False,  # only the operator (seed, CLI) marks a client trusted
            owner_id=post.user.id,
            max_apps=settings.max_apps_per_user,
            oidc_columns=oidc_columns(values),
        )
    except RegistrationError as exc:
        return form_page(post.request, post.user, values, error=str(exc))
    response = see_other(app_path(client.client_id))
    if secret is not None:
        with_secret(response, post.context, client.client_id, secret)
    return response


def _edit_form(request: Request, user: User, client: Client) -> Response:
    return form_page(request, user, client_values(client), client=client)


def _edit(post: PagePost, client: Client) -> Response:
    values = {**form_values(post.form), "client_type": client.client_type}
    try:
        update_client(
            post.session,
            client,
            name=values["name"],
            website=values["website"],
            description=values["description"],
            redirect_uris=values["redirect_uris"].splitlines(),
            grant_types=values["grant_types"],
            oidc_columns=oidc_columns(values),
        )
    except RegistrationError as exc:  # nothing was changed: update_client checks first
        return form_page(post.request, post.user, values, client=client, error=str(exc))
    post.context.clients.invalidate(client.client_id)
    return see_other(app_path(client.client_id))


def _confirm_rotate(request: Request, user: User, client: Client) -> Response:
    if client.is_public:
        return app_page(request, user, client, error="Public clients have no secret to rotate.")
    return ROTATE_CONFIRMATION.page(request, user, client)


def _rotate(post: PagePost, client: Client) -> Response:
    try:
        secret = rotate_secret(
            post.session,
            client,
            access_token_ttl=post.context.settings.access_token_ttl,
            client_cache_ttl=post.context.settings.client_cache_ttl,
        )
    except RegistrationError as exc:
        return app_page(post.request, post.user, client, error=str(exc))
    post.context.clients.invalidate(client.client_id)
    response = see_other(app_path(client.client_id))
    with_secret(response, post.context, client.client_id, secret)
    notice = "A new secret was issued: copy it now. The old one no longer works."
    return with_notice(post.request, response, path=app_path(client.client_id), text=notice)


def _delete(post: PagePost, client: Client) -> Response:
    name, client_id = client.name, client.client_id  # the row is gone after the delete
    settings = post.context.settings
    delete_client(
        post.session,
        client,
        access_token_ttl=settings.access_token_ttl,
        client_cache_ttl=settings.client_cache_ttl,
    )
    post.context.clients.invalidate(client_id)
    notice = f"{name} was deleted; its tokens no longer work."
    return with_notice(post.request, see_other(APPS_PATH), path=APPS_PATH, text=notice)


# The pages and forms about one app, in the order FastAPI matches them.
_app_page(
    _APP_PATH,
    reveal_page,
    name="view_app",
    summary="Developer portal: an app's page",
    description="The app's registration",
)
_app_page(
    f"{_APP_PATH}/edit",
    _edit_form,
    name="edit_app_page",
    summary="Developer portal: the form to edit an app",
    description="The edit form",
)
_app_post(
    f"{_APP_PATH}/edit",
    _edit,
    name="edit_app",
    summary="Edit an app (the edit form)",
    done="Saved: to the app's page",
    fields=_APP_FIELDS,
)
_app_page(
    f"{_APP_PATH}/rotate-secret",
    _confirm_rotate,
    name="confirm_rotate_secret",
    summary="Developer portal: confirm rotating an app's secret",
    description="Rotate the secret?",
)
_app_post(
    f"{_APP_PATH}/rotate-secret",
    _rotate,
    name="rotate_app_secret",
    summary="Rotate an app's secret (the confirmation form)",
    done="Rotated: to the app's page, showing the new secret once",
)
_app_page(
    f"{_APP_PATH}/delete",
    DELETE_CONFIRMATION.page,
    name="confirm_delete_app",
    summary="Developer portal: confirm deleting an app",
    description="Delete the app?",
)
_app_post(
    f"{_APP_PATH}/delete",
    _delete,
    name="delete_app",
    summary="Delete an app (the confirmation form)",
    done="Deleted: to the app list, which says so",
)
