"""Token revocation (RFC 7009) and the revoked-token feed for resource servers."""

import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from services.authorization_server import revocation
from services.authorization_server.client_auth import (
    authenticate_client,
    authenticated_token_form,
)
from services.authorization_server.deps import ContextDep
from services.authorization_server.request_body import form_parameters
from services.authorization_server.schemas import (
    CLIENT_SECURITY,
    CLIENT_SECURITY_TEXT,
    ERROR_RESPONSES,
    RevokedTokenFeed,
    form_body,
)
from services.authorization_server.throttle import client_ip
from shared.errors import InvalidClientError
from shared.http import NO_STORE_HEADERS

router = APIRouter(tags=["oauth"])

REVOCATION_PATH = "/v1/oauth/revoke"
REVOKED_FEED_PATH = "/v1/oauth/revoked-tokens"
# RFC 7009 §2.1 and RFC 7662 §2.1 requests: a token, a hint, and client authentication.
TOKEN_FORM = form_body(
    {
        "token": {"type": "string"},
        # A hint only: an unknown value is ignored, never an error (RFC 7009 §2.1).
        "token_type_hint": {"type": "string", "examples": ["access_token", "refresh_token"]},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
    },
    ["token"],
)
TOKEN_FORM_PARAMETERS = form_parameters(TOKEN_FORM)
_BASIC_ONLY: dict[str, Any] = {"security": [{"clientBasic": []}]}


@router.post(
    REVOCATION_PATH,
    summary="Token revocation (RFC 7009)",
    response_class=Response,  # an empty 200
    responses={
        200: {"description": "Revoked, or the token was already unusable"},
        **ERROR_RESPONSES,
    },
    openapi_extra={**TOKEN_FORM, **CLIENT_SECURITY},
    description="Revoke a refresh token (with every token of its grant) or an access token."
    f"{CLIENT_SECURITY_TEXT}; a public client sends its `client_id` alone (`none`).",
)
async def revoke(request: Request, context: ContextDep) -> Response:
    """Revoke a refresh token (with every token of its grant) or an access token."""
    token, client = await authenticated_token_form(request, context, known=TOKEN_FORM_PARAMETERS)
    await revocation.revoke(context, token=token, client=client)
    return Response(status_code=200, headers=NO_STORE_HEADERS)


@router.get(
    REVOKED_FEED_PATH,
    summary="Revoked, unexpired access tokens and deleted clients (feed for resource servers)",
    response_model=RevokedTokenFeed,
    responses={status: ERROR_RESPONSES[status] for status in (400, 401, 429)},  # a GET: no 413
    openapi_extra=_BASIC_ONLY,
)
async def revoked_tokens(request: Request, context: ContextDep) -> Response:
    """A full snapshot of revoked access-token ids that have not expired, and of deleted
    clients whose tokens have not all expired. Only clients listed in
    `AS_REVOCATION_FEED_CLIENTS` may read it, with `client_secret_basic`."""
    client = await authenticate_client(
        context, {}, request.headers.get("authorization"), client_ip=client_ip(request)
    )
    if client.is_public or client.client_id not in context.settings.revocation_feed_clients:
        raise InvalidClientError("this client may not read the revocation feed")
    body = await revocation.revoked_feed(context)
    return JSONResponse({**body, "generated_at": int(time.time())}, headers=NO_STORE_HEADERS)
