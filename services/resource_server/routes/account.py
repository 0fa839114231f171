"""`GET /v2/account`: the account behind the token."""

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.resource_server.accounts import account_public, get_or_create_account
from services.resource_server.context import ResourceContext
from services.resource_server.protect import AccessTokenClaims, ReadClaims
from services.resource_server.routes import BEARER_ERRORS
from services.resource_server.schemas import AccountResponse

router = APIRouter(tags=["account"])


@router.get(
    "/v2/account",
    summary="The account behind the token (scope read)",
    response_model=AccountResponse,
    responses=BEARER_ERRORS,
)
async def account(claims: ReadClaims, request: Request) -> Response:
    """A user's account, or for a client-credentials token the app's own service account."""
    context: ResourceContext = request.app.state.context
    body = context.accounts.get(claims.sub)  # the hot path: no database, no thread hop
    if body is None:
        body = await run_in_threadpool(_render, context, claims)
        context.accounts.put(claims.sub, body)
    return Response(body, media_type="application/json")


def _render(context: ResourceContext, claims: AccessTokenClaims) -> bytes:
    with Session(context.engine, expire_on_commit=False) as session:
        record = get_or_create_account(
            session=session, claims=claims, droplet_limit=context.settings.default_droplet_limit
        )
        return AccountResponse(account=account_public(record)).model_dump_json().encode()
