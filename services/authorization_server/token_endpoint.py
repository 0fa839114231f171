"""The token endpoint, RFC 6749 §3.2: a plain ASGI handler in the route table.

It is the hot path. A client-credentials token costs one ES256 signature (about 35 µs);
FastAPI's request, dependency and response layers cost about as much again, and the work
needs none of them. So `TokenEndpoint` is a Starlette `Route` (`token_route`), first in the
table after `/healthz`, behind the same middleware as every route (CORS, HSTS, the body
cap, the error handlers), but without FastAPI's per-route machinery: it parses the body
once, authenticates the client from the in-memory cache and dispatches on the grant
registry. Its OpenAPI entry (`OPENAPI_PATH_ITEM`, merged in by `main`) is generated from
the grant registry.
"""

from typing import Any

import orjson
from starlette.requests import ClientDisconnect
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from services.authorization_server.client_auth import authenticate_client
from services.authorization_server.context import ServerContext
from services.authorization_server.grants import get_grant, token_grants_text, token_parameters
from services.authorization_server.grants.password import (
    PasswordGrant,
)
from services.authorization_server.request_body import (
    check_form_request,
    form_parameters,
    read_body,
)
from services.authorization_server.schemas import CLIENT_SECURITY, form_body
from shared.error_handlers import error_response
from shared.errors import OAuthError, log_detail
from shared.http import NO_STORE_HEADERS, parse_form

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
        return await grant.exchange_from(form, client, client_ip=client_ip)
    return await grant.exchange(form, client)


class TokenEndpoint:
    """The ASGI handler of `POST /v1/oauth/token`, first in the route table (`token_route`).

    Errors are raised, not rendered: `OAuthError` goes to the application's one handler,
    anything else to its detail-free `server_error`. CORS, HSTS and the body cap are the
    application's middleware, as for every route.
    """

    def __init__(self, context: ServerContext) -> None:
        self._context = context
        self._max_bytes = context.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type, content_length, authorization = _headers(
            scope, b"content-type", b"content-length", b"authorization"
        )
        max_bytes = self._max_bytes
        check_form_request(
            query_string=scope["query_string"],
            content_type=content_type,
            content_length=content_length,
            max_bytes=max_bytes,
        )
        try:
            body = await read_body(receive, max_bytes=max_bytes)
        except ClientDisconnect:
            return
        form = parse_form(body, max_bytes=max_bytes, known=PARAMETERS)
        client = scope.get("client")
        client_ip = client[0] if client else "unknown"
        payload = await exchange(self._context, form, authorization, client_ip=client_ip)
        content = orjson.dumps(payload)
        headers = [*_RESPONSE_HEADERS, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def token_route(context: ServerContext) -> Route:
    """The token endpoint's entry in the route table: POST only (the router answers 405)."""
    return Route(TOKEN_PATH, endpoint=TokenEndpoint(context), methods=["POST"])


class TokenFastPath:
    """Middleware: a token request goes straight to the token route's handler.

    Installed in `create_app` inside CORS, HSTS and the body cap, so those apply to it as to
    every route; it skips only what lies between here and the handler (the exception
    middleware, FastAPI's exit stack, the router). So it renders its own `OAuthError`s, with
    the shared `error_response`; anything unexpected still reaches the `server_error` handler
    outside. Other methods go on to the router, which answers 405.
    """

    def __init__(self, app: ASGIApp, *, route: Route) -> None:
        self._app = app
        self._path = route.path
        self._handler = route.app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self._path or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        try:
            await self._handler(scope, receive, send)
        except OAuthError as error:
            log_detail(error)
            await error_response(error)(scope, receive, send)


def _headers(scope: Scope, *names: bytes) -> list[str | None]:
    """The values of the named request headers, in one pass over the header list."""
    found: dict[bytes, str] = {}
    for key, value in scope["headers"]:
        if key in names and key not in found:
            found[key] = bytes(value).decode("latin-1")
    return [found.get(name) for name in names]


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
        **CLIENT_SECURITY,
    }
}
