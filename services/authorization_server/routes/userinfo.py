"""UserInfo endpoint (OpenID Connect Core 1.0 §5.3): GET and POST, bearer token in the
`Authorization` header (RFC 6750 §2.1)."""

from typing import Any

from fastapi import APIRouter, Request
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import JSONResponse, Response

from services.authorization_server.client_metadata import bearer_token
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep, run_sync
from services.authorization_server.oidc.discovery import USERINFO_PATH
from services.authorization_server.oidc.userinfo import userinfo
from shared.http import NO_STORE_HEADERS
from shared.openapi import bearer_errors

router = APIRouter(tags=["openid"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The user's claims the token's scopes release: JSON, or a signed JWT "
        "(application/jwt) when the client registered userinfo_signed_response_alg",
        "content": {"application/jwt": {"schema": {"type": "string"}}},
    },
    **bearer_errors(),
}
_DOCUMENTATION: dict[str, Any] = {
    "responses": _RESPONSES,
    "openapi_extra": {"security": [{"bearer": []}]},
}


@router.get(USERINFO_PATH, summary="UserInfo (OpenID Connect Core 1.0 §5.3)", **_DOCUMENTATION)
async def userinfo_get(request: Request, context: ContextDep, session: SessionDep) -> Response:
    return await _answer(request, context, session)


@router.post(
    USERINFO_PATH, summary="UserInfo by POST (OpenID Connect Core 1.0 §5.3)", **_DOCUMENTATION
)
async def userinfo_post(request: Request, context: ContextDep, session: SessionDep) -> Response:
    return await _answer(request, context, session)


async def _answer(request: Request, context: ServerContext, session: AsyncSession) -> Response:
    token = bearer_token(request.headers.get("authorization"))
    keys, id_tokens = context.keys, context.id_tokens
    answer = await run_sync(
        session, lambda sync: userinfo(token, session=sync, keys=keys, id_tokens=id_tokens)
    )
    if answer.jwt is not None:
        return Response(answer.jwt, media_type="application/jwt", headers=NO_STORE_HEADERS)
    return JSONResponse(answer.claims, headers=NO_STORE_HEADERS)
