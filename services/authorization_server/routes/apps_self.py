"""The calling app's own registration, for client-credentials tokens (RFC 6750 bearer)
whose audience is this API: asked for with RFC 8707 `resource` = `AS_APPS_API_RESOURCE`."""

from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from services.authorization_server import client_metadata
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep
from services.authorization_server.models import Client
from services.authorization_server.request_body import read_json_object
from services.authorization_server.schemas import AppRegistration, AppSelfUpdate, ErrorResponse
from shared.errors import InsufficientScopeError
from shared.http import NO_STORE_HEADERS

router = APIRouter(tags=["apps"])

SELF_PATH = "/v1/apps/self"
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorResponse,
        "description": "invalid_token (Bearer challenge): also a token for another audience",
    },
    403: {"model": ErrorResponse, "description": "insufficient_scope: `write` is needed"},
}
_SECURITY: dict[str, Any] = {"security": [{"bearer": []}]}


@router.get(
    SELF_PATH,
    summary="Read the calling app's registration",
    response_model=AppRegistration,
    responses=_ERRORS,
    openapi_extra=_SECURITY,
)
def read_self(request: Request, context: ContextDep, session: SessionDep) -> Response:
    """The registration of the client whose client-credentials token is presented."""
    authorization = request.headers.get("authorization")
    client, _ = client_metadata.authenticate_app(context, session, authorization)
    body = client_metadata.app_registration(client).model_dump()
    return JSONResponse(body, headers=NO_STORE_HEADERS)


@router.patch(
    SELF_PATH,
    summary="Update the calling app's description and redirect URIs",
    response_model=AppRegistration,
    responses={400: {"model": ErrorResponse, "description": "RFC 7591 §3.2.2"}, **_ERRORS},
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
    client = await run_in_threadpool(_authenticate, context, session, authorization, "write")
    body = await read_json_object(request, max_bytes=context.settings.max_body_bytes)
    result = await run_in_threadpool(_update, context, session, client, body)
    return JSONResponse(result, headers=NO_STORE_HEADERS)


def _authenticate(
    context: ServerContext, session: Session, authorization: str | None, scope: str
) -> Client:
    client, scopes = client_metadata.authenticate_app(context, session, authorization)
    if scope not in scopes:
        raise InsufficientScopeError(f"the {scope} scope is required", scope=scope)
    return client


def _update(
    context: ServerContext, session: Session, client: Client, body: dict[str, Any]
) -> dict[str, Any]:
    client = client_metadata.update_self(session, client, body)
    context.clients.invalidate(client.client_id)
    return client_metadata.app_registration(client).model_dump()
