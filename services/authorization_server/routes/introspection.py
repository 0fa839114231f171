"""Token introspection (RFC 7662)."""

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from services.authorization_server import introspection
from services.authorization_server.client_auth import authenticated_token_form
from services.authorization_server.deps import ContextDep
from services.authorization_server.routes.revocation import TOKEN_FORM, TOKEN_FORM_PARAMETERS
from services.authorization_server.schemas import (
    CLIENT_SECURITY,
    CLIENT_SECURITY_TEXT,
    ERROR_RESPONSES,
    IntrospectionResponse,
)
from shared.errors import InvalidClientError
from shared.http import NO_STORE_HEADERS

router = APIRouter(tags=["oauth"])

INTROSPECTION_PATH = "/v1/oauth/introspect"


@router.post(
    INTROSPECTION_PATH,
    summary="Token introspection (RFC 7662)",
    response_model=IntrospectionResponse,
    responses=ERROR_RESPONSES,
    openapi_extra={**TOKEN_FORM, **CLIENT_SECURITY},
    description="Whether a token is active, and its claims, for confidential clients."
    f"{CLIENT_SECURITY_TEXT}; a public client's `client_id` alone is refused (401).",
)
async def introspect(request: Request, context: ContextDep) -> Response:
    """Whether a token is active, and its claims. Callers authenticate as confidential
    clients and learn about their own tokens only, except the resource servers listed in
    `AS_INTROSPECTION_CLIENTS`, which may introspect every token."""
    token, client = await authenticated_token_form(request, context, known=TOKEN_FORM_PARAMETERS)
    if client.is_public:
        raise InvalidClientError("introspection requires a confidential client")
    body = await introspection.introspect(context, token=token, client=client)
    return JSONResponse(body, headers=NO_STORE_HEADERS)
