"""Token endpoint, RFC 6749 §3.2: client authentication, then the grant registry."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from services.authorization_server.endpoint_input import (
    BareRequestRoute,
    authenticate_client,
    read_form,
)
from services.authorization_server.grants import get_grant
from services.authorization_server.schemas import ERROR_RESPONSES, TokenResponse, form_body
from shared.http import NO_STORE_HEADERS

# The hot path: the endpoint parses its own input, so FastAPI's request handling is skipped.
router = APIRouter(tags=["oauth"], route_class=BareRequestRoute)

_TOKEN_FORM = form_body(
    {
        "grant_type": {
            "type": "string",
            "enum": ["authorization_code", "refresh_token", "client_credentials", "password"],
        },
        "code": {"type": "string"},
        "redirect_uri": {"type": "string"},
        "code_verifier": {"type": "string"},
        "refresh_token": {"type": "string"},
        "username": {"type": "string"},
        "password": {"type": "string", "format": "password"},
        "scope": {"type": "string", "examples": ["read write"]},
        "client_id": {"type": "string", "description": "client_secret_post or public clients"},
        "client_secret": {"type": "string", "description": "client_secret_post"},
    },
    ["grant_type"],
)


@router.post(
    "/v1/oauth/token",
    summary="Token endpoint",
    response_model=TokenResponse,
    responses=ERROR_RESPONSES,
    openapi_extra={**_TOKEN_FORM, "security": [{"clientBasic": []}, {}]},
)
async def token(request: Request) -> Response:
    """Exchange a grant for an access token: `authorization_code` (with PKCE),
    `refresh_token` (rotated on use), `client_credentials` and `password` (trusted clients)."""
    context = request.app.state.context
    form = await read_form(request, max_bytes=context.settings.max_body_bytes)
    client = await authenticate_client(request, context, form)
    grant = get_grant(context.grants, form.get("grant_type"))
    if grant.blocking:
        body = await run_in_threadpool(grant.exchange, form, client)
    else:
        body = grant.exchange(form, client)
    return JSONResponse(body, headers=NO_STORE_HEADERS)
