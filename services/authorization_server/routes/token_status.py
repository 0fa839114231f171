"""Revocation (RFC 7009), introspection (RFC 7662) and the revoked-token feed."""

import time
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from services.authorization_server import repository, token_status
from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.context import ServerContext
from services.authorization_server.endpoint_input import (
    authenticate_client,
    form_parameters,
    read_form,
)
from services.authorization_server.schemas import (
    ERROR_RESPONSES,
    IntrospectionResponse,
    RevokedTokenFeed,
    form_body,
)
from services.authorization_server.throttle import client_ip
from shared.db import utcnow
from shared.errors import InvalidClientError, InvalidRequestError
from shared.http import NO_STORE_HEADERS

router = APIRouter(tags=["oauth"])

_TOKEN_FORM = form_body(
    {
        "token": {"type": "string"},
        "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
    },
    ["token"],
)
_PARAMETERS = form_parameters(_TOKEN_FORM)
_SECURITY: dict[str, Any] = {"security": [{"clientBasic": []}]}


async def _token_and_client(request: Request) -> tuple[ServerContext, str, RegisteredClient]:
    context: ServerContext = request.app.state.context
    form = await read_form(request, max_bytes=context.settings.max_body_bytes, known=_PARAMETERS)
    client = await authenticate_client(
        context, form, request.headers.get("authorization"), client_ip=client_ip(request)
    )
    if "token" not in form:
        raise InvalidRequestError("missing parameter: token")
    return context, form["token"], client


@router.post(
    "/v1/oauth/revoke",
    summary="Token revocation (RFC 7009)",
    responses={
        200: {"description": "Revoked, or the token was already unusable"},
        **ERROR_RESPONSES,
    },
    openapi_extra={**_TOKEN_FORM, **_SECURITY},
)
async def revoke(request: Request) -> Response:
    """Revoke a refresh token (with every token of its grant) or an access token."""
    context, token, client = await _token_and_client(request)
    await run_in_threadpool(token_status.revoke, context, token=token, client=client)
    return Response(status_code=200, headers=NO_STORE_HEADERS)


@router.post(
    "/v1/oauth/introspect",
    summary="Token introspection (RFC 7662)",
    response_model=IntrospectionResponse,
    responses=ERROR_RESPONSES,
    openapi_extra={**_TOKEN_FORM, **_SECURITY},
)
async def introspect(request: Request) -> Response:
    """Whether a token is active, and its claims. Callers authenticate as confidential
    clients and learn about their own tokens only, except the resource servers listed in
    `AS_INTROSPECTION_CLIENTS`, which may introspect every token."""
    context, token, client = await _token_and_client(request)
    if client.is_public:
        raise InvalidClientError("introspection requires a confidential client")
    body = await run_in_threadpool(token_status.introspect, context, token=token, client=client)
    return JSONResponse(body, headers=NO_STORE_HEADERS)


@router.get(
    "/v1/oauth/revoked-tokens",
    summary="Revoked, unexpired access tokens and deleted clients (feed for resource servers)",
    response_model=RevokedTokenFeed,
    responses=ERROR_RESPONSES,
    openapi_extra=_SECURITY,
)
async def revoked_tokens(request: Request) -> Response:
    """A full snapshot of revoked access-token ids that have not expired, and of deleted
    clients whose tokens have not all expired. Only clients listed in
    `AS_REVOCATION_FEED_CLIENTS` may read it, with `client_secret_basic`."""
    context: ServerContext = request.app.state.context
    client = await authenticate_client(
        context, {}, request.headers.get("authorization"), client_ip=client_ip(request)
    )
    if client.is_public or client.client_id not in context.settings.revocation_feed_clients:
        raise InvalidClientError("this client may not read the revocation feed")
    body = await run_in_threadpool(_revoked, context)
    return JSONResponse({**body, "generated_at": int(time.time())}, headers=NO_STORE_HEADERS)


def _revoked(context: ServerContext) -> dict[str, list[dict[str, object]]]:
    now = utcnow()
    with Session(context.engine) as session:
        tokens = repository.list_revoked_access_tokens(session=session, now=now)
        clients = repository.list_revoked_clients(session=session, now=now)
        return {
            "revoked": [{"jti": r.jti, "exp": int(r.expires_at.timestamp())} for r in tokens],
            "revoked_clients": [
                {
                    "client_id": c.client_id,
                    "revoked_at": int(c.revoked_at.timestamp()),
                    "exp": int(c.expires_at.timestamp()),
                }
                for c in clients
            ],
        }
