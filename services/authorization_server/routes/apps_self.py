"""The calling app's own registration, for client-credentials tokens (RFC 6750 bearer)
whose audience is this API: asked for with RFC 8707 `resource` = `AS_APPS_API_RESOURCE`."""

from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import JSONResponse, Response

from services.authorization_server import client_metadata
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep, run_sync
from services.authorization_server.models import Client
from services.authorization_server.request_body import read_json_object
from services.authorization_server.schemas import AppRegistration, AppSelfUpdate
from shared.errors import InsufficientScopeError
from shared.http import NO_STORE_HEADERS
from shared.openapi import bearer_errors, json_errors

router = APIRouter(tags=["apps"])

SELF_PATH = "/v1/apps/self"
_ERRORS = bearer_errors(" (also for a token meant for another audience)")
_SECURITY: dict[str, Any] = {"security": [{"bearer": []}]}


@router.get(
    SELF_PATH,
    summary="Read the calling app's registration",
    response_model=AppRegistration,
    responses=_ERRORS,
    openapi_extra=_SECURITY,
)
async def read_self(request: Request, context: ContextDep, session: SessionDep) -> Response:
    """The registration of the client whose client-credentials token is presented."""
    authorization = request.headers.get("authorization")
    client = await run_sync(session, _authenticate, context, authorization, None)
    body = client_metadata.app_registration(client).model_dump()
    return JSONResponse(body, headers=NO_STORE_HEADERS)


@router.patch(
    SELF_PATH,
    summary="Update the calling app's description and redirect URIs",
    response_model=AppRegistration,
    responses={
        **json_errors(
            {
                400: "invalid_request (the body is not a JSON object), or RFC 7591 §3.2.2"
                " invalid_redirect_uri, invalid_client_metadata",
                413: "invalid_request: the body is too large",
            }
        ),
        **_ERRORS,
    },
    openapi_extra={
        **_SECURITY,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": AppSelfUpdate.model_json_schema()}},
        },
    },
)
async def update_self(request: Request, context: ContextDep, session: SessionDep) -> Response:
    """Needs a client-credentials token with the `write` scope; the body is read after."""
    authorization = request.headers.get("authorization")
    client = await run_sync(session, _authenticate, context, authorization, "write")
    await session.commit()  # ends the read: no pooled connection waits for the body
    body = await read_json_object(request, max_bytes=context.settings.max_body_bytes)
    result = await run_sync(session, _update, context, client, body)
    return JSONResponse(result, headers=NO_STORE_HEADERS)


def _authenticate(
    session: Session, context: ServerContext, authorization: str | None, scope: str | None
) -> Client:
    """The calling app, whose token must carry `scope` (None: any)."""
    client, scopes = client_metadata.authenticate_app(context, session, authorization)
    if scope is not None and scope not in scopes:
        raise InsufficientScopeError(f"the {scope} scope is required", scope=scope)
    return client


def _update(
    session: Session, context: ServerContext, client: Client, body: dict[str, Any]
) -> dict[str, Any]:
    client = client_metadata.update_self(session, client, body)
    context.clients.invalidate(client.client_id)
    return client_metadata.app_registration(client).model_dump()
