"""The token endpoint, RFC 6749 §3.2, answered in front of the web framework.

It is the hot path. A client-credentials token costs one ES256 signature (about 35 µs);
FastAPI's routing, request and response layers cost about as much again, and the work
needs none of them. So the application's front door (`main.AuthorizationServerApp`) hands
requests for `/v1/oauth/token` (but CORS preflights) to `TokenEndpoint`, a small ASGI
handler built once with the server context: it parses
the body once, authenticates the client from the in-memory cache, dispatches on the grant
registry, and renders errors with the same `OAuthError` model as every other endpoint (and
a detail-free `server_error` for anything unexpected). The OpenAPI document describes it
like any other route (`OPENAPI_PATH_ITEM`, merged in by `main`).
"""

import logging
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from services.authorization_server.context import ServerContext
from services.authorization_server.cors import simple_cors_headers
from services.authorization_server.endpoint_input import (
    authenticate_client,
    check_form_request,
    form_parameters,
    read_limited,
)
from services.authorization_server.grants import get_grant, token_grants_text, token_parameters
from services.authorization_server.grants.password import (
    PasswordGrant,
    throttled_password_exchange,
)
from services.authorization_server.schemas import form_body
from shared.errors import OAuthError
from shared.http import NO_STORE_HEADERS, parse_form

logger = logging.getLogger(__name__)

TOKEN_PATH = "/v1/oauth/token"  # noqa: S105 (a path, not a secret)
_RESPONSE_HEADERS = [
    (b"content-type", b"application/json"),
    *((name.lower().encode(), value.encode()) for name, value in NO_STORE_HEADERS.items()),
]


async def exchange(
    context: ServerContext, form: dict[str, str], authorization: str | None, *, client_ip: str
) -> dict[str, Any]:
    """Authenticate the client, then let the grant named by `grant_type` issue the tokens."""
    client = await authenticate_client(context, form, authorization, client_ip=client_ip)
    grant = get_grant(context.grants, form.get("grant_type"))
    if isinstance(grant, PasswordGrant):
        return await throttled_password_exchange(context, grant, form, client, client_ip)
    if grant.blocking:
        return await run_in_threadpool(grant.exchange, form, client)
    return grant.exchange(form, client)


class TokenEndpoint:
    """The ASGI handler of `/v1/oauth/token` (any method but a CORS preflight)."""

    def __init__(self, context: ServerContext) -> None:
        self._context = context
        self._max_bytes = context.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type, content_length, authorization, origin = _headers(
            scope, b"content-type", b"content-length", b"authorization", b"origin"
        )
        cors = simple_cors_headers(has_origin=origin is not None)
        if scope["method"] != "POST":
            refusal = {"error": "method_not_allowed", "error_description": "use POST"}
            await _respond(send, 405, refusal, cors, {"Allow": "POST"})
            return
        max_bytes = self._max_bytes
        extra: dict[str, str] = {}
        try:
            check_form_request(
                query_string=scope["query_string"],
                content_type=content_type,
                content_length=content_length,
                max_bytes=max_bytes,
            )
            body = await read_limited(receive, max_bytes=max_bytes)
            form = parse_form(body, max_bytes=max_bytes, known=PARAMETERS)
            client = scope.get("client")
            client_ip = client[0] if client else "unknown"
            payload = await exchange(self._context, form, authorization, client_ip=client_ip)
            status = 200
        except OAuthError as error:
            status, payload, extra = error.status_code, error.body(), error.headers()
        except ClientDisconnect:
            return
        except Exception:
            logger.exception("token endpoint failed")
            status, payload = 500, {"error": "server_error"}
        await _respond(send, status, payload, cors, extra)


def _headers(scope: Scope, *names: bytes) -> list[str | None]:
    """The values of the named request headers, in one pass over the header list."""
    found: dict[bytes, str] = {}
    for key, value in scope["headers"]:
        if key in names and key not in found:
            found[key] = bytes(value).decode("latin-1")
    return [found.get(name) for name in names]


async def _respond(
    send: Send,
    status: int,
    payload: dict[str, Any],
    cors: tuple[tuple[bytes, bytes], ...],
    extra: dict[str, str],
) -> None:
    content = orjson.dumps(payload)
    headers = [
        *_RESPONSE_HEADERS,
        (b"content-length", str(len(content)).encode()),
        *cors,
        *((name.lower().encode(), value.encode("latin-1")) for name, value in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


_FORM = form_body(
    {
        **token_parameters(),
        "resource": {
            "type": "string",
            "description": "RFC 8707: the API the token is for (`resources_supported` in the "
            "metadata); default the cloud API. This server's own API (`/v1/apps/self`) is "
            "for client_credentials only. Anything else: `invalid_target`.",
        },
        "client_id": {"type": "string", "description": "client_secret_post or public clients"},
        "client_secret": {"type": "string", "description": "client_secret_post"},
    },
    ["grant_type"],
)
PARAMETERS = form_parameters(_FORM)


def _json(ref: str, description: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{ref}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


OPENAPI_PATH_ITEM: dict[str, Any] = {
    "post": {
        "tags": ["oauth"],
        "summary": "Token endpoint",
        "description": (
            f"Exchange a grant for an access token: {token_grants_text()}. "
            "Responses carry `Cache-Control: no-store`."
        ),
        "operationId": "token_v1_oauth_token_post",
        **_FORM,
        "responses": {
            "200": _json("TokenResponse", "Tokens (RFC 6749 §5.1)"),
            "400": _json("ErrorResponse", "RFC 6749 §5.2 or RFC 8707 (`invalid_target`) error"),
            "401": _json("ErrorResponse", "Client authentication failed (`invalid_client`)"),
            "413": _json("ErrorResponse", "Body too large (`invalid_request`)"),
            "429": _json("ErrorResponse", "Too many failed attempts (`invalid_request`)"),
        },
        "security": [{"clientBasic": []}, {}],
    }
}
