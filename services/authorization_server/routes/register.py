"""Dynamic client registration endpoint, RFC 7591 §3."""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from services.authorization_server import client_metadata
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep, run_sync
from services.authorization_server.request_body import read_json_object
from services.authorization_server.schemas import (
    ClientRegistrationRequest,
    ClientRegistrationResponse,
)
from services.authorization_server.throttle import client_ip, ip_key
from shared.errors import InvalidTokenError
from shared.http import NO_STORE_HEADERS
from shared.openapi import Responses, bearer_errors, json_errors

router = APIRouter(tags=["oauth"])

REGISTER_PATH = "/v1/oauth/register"
_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ClientRegistrationRequest.model_json_schema()}},
    },
    # The initial access token, unless registration is open (`{}`: no credentials).
    "security": [{"bearer": []}, {}],
}
_ERRORS: Responses = {
    **json_errors(
        {
            400: "invalid_request (not a JSON object), invalid_redirect_uri,"
            " invalid_client_metadata",
            403: "access_denied: registration is disabled",
            413: "invalid_request: the body is too large",
            429: "invalid_request: too many attempts (from this address, or with this token)",
        }
    ),
    401: bearer_errors(
        ": the initial access token is missing or wrong (the description says what to send)"
    )[401],
}


@router.post(
    REGISTER_PATH,
    summary="Dynamic client registration (RFC 7591)",
    status_code=201,
    response_model=ClientRegistrationResponse,
    response_model_exclude_none=True,
    responses=_ERRORS,
    openapi_extra=_OPENAPI,
)
async def register(request: Request, context: ContextDep, session: SessionDep) -> Response:
    """Register a client from its JSON metadata. Needs `Authorization: Bearer <initial access
    token>` unless registration is open. The secret is returned once; never a trusted client."""
    await _check_access(request, context)
    body = await read_json_object(request, max_bytes=context.settings.max_body_bytes)
    response = await run_sync(session, client_metadata.register, body, settings=context.settings)
    return JSONResponse(response, status_code=201, headers=NO_STORE_HEADERS)


async def _check_access(request: Request, context: ServerContext) -> None:
    """The initial access token has its own budget, from any address (a CI job registering
    its test clients); open registration counts every attempt per address; a wrong token
    counts against the address, which is locked out after many."""
    throttle = context.throttle
    ip = client_ip(request)
    try:
        with_token = client_metadata.check_initial_access_token(
            request.headers.get("authorization"), context.settings
        )
    except InvalidTokenError:
        await throttle.failed((throttle.policy.ip, ip_key("register-token", ip)))
        raise
    if with_token:
        await throttle.hit(throttle.policy.registration_token, "register:token")
    else:
        await throttle.hit(throttle.policy.registration_ip, ip_key("register", ip))
