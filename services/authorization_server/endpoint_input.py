"""Reading the form-encoded, client-authenticated requests of the back-channel endpoints.

The body is read and parsed once, here; handlers never use FastAPI `Form()` (which parses
again per parameter and costs the token endpoint about a fifth of its throughput).
"""

from collections.abc import Container, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from services.authorization_server.client_auth import (
    RegisteredClient,
    authenticate,
    read_credentials,
)
from services.authorization_server.context import ServerContext
from services.authorization_server.throttle import account_key, ip_key
from shared.errors import InvalidClientError, InvalidRequestError, PayloadTooLargeError
from shared.http import FORM_CONTENT_TYPE, is_form_content_type, parse_form


def check_form_request(
    *, query_string: bytes, content_type: str | None, content_length: str | None, max_bytes: int
) -> None:
    """Refuse query-string parameters (credentials never sit in URLs), other media types
    and declared sizes over the limit, before the body is read."""
    if query_string:
        raise InvalidRequestError("parameters must be sent in the request body, not the URL")
    if not is_form_content_type(content_type):
        raise InvalidRequestError("content type must be application/x-www-form-urlencoded")
    if content_length is not None and (
        not content_length.isdigit() or int(content_length) > max_bytes
    ):
        raise PayloadTooLargeError(f"request body larger than {max_bytes} bytes")


async def read_limited(receive: Receive, *, max_bytes: int) -> bytes:
    """The body from the ASGI `receive` channel, refused as soon as it outgrows `max_bytes`.

    A plain loop over `receive`, not `Request.stream()`: an async generator per request
    costs the token endpoint a few microseconds for nothing.
    """
    chunks: list[bytes] = []  # joined once: a body in many small chunks costs linear time
    size = 0
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(f"request body larger than {max_bytes} bytes")
        chunks.append(chunk)
        more_body = message.get("more_body", False)
    return b"".join(chunks)


def form_parameters(openapi_form: Mapping[str, Any]) -> frozenset[str]:
    """The parameter names an endpoint recognizes: those its OpenAPI request body documents.

    Any other parameter is ignored, even repeated (RFC 6749 §3.1)."""
    content = openapi_form["requestBody"]["content"][FORM_CONTENT_TYPE]
    return frozenset(content["schema"]["properties"])


async def read_form(
    request: Request, *, max_bytes: int, known: Container[str] | None = None
) -> dict[str, str]:
    """The checked and parsed form body of a Starlette request (`known`: see `parse_form`).

    It reads `request.receive` itself: call it once, from a route that declares no body
    parameters (FastAPI would have consumed the body already)."""
    check_form_request(
        query_string=request.scope["query_string"],
        content_type=request.headers.get("content-type"),
        content_length=request.headers.get("content-length"),
        max_bytes=max_bytes,
    )
    body = await read_limited(request.receive, max_bytes=max_bytes)
    return parse_form(body, max_bytes=max_bytes, known=known)


async def authenticate_client(
    context: ServerContext, form: dict[str, str], authorization: str | None, *, client_ip: str
) -> RegisteredClient:
    """The calling client, from the in-memory cache when it can (the token hot path).

    Throttled per client_id and per client IP. A success touches no shared storage: the
    lockout check before the secret is verified reads this process's mirror of lockouts,
    and only a failure goes to the counters (Redis when set), which also refreshes the
    mirror. So another replica's lockout is honoured from this replica's first failure on.
    """
    credentials = read_credentials(form, authorization)
    throttle = context.throttle
    account = account_key("client", credentials.client_id[:200])
    ip = ip_key("client", client_ip)
    throttle.check_local(account, ip)
    client = context.clients.cached(credentials.client_id)
    if client is None:
        client = await run_in_threadpool(context.clients.load, credentials.client_id)
    try:
        return authenticate(credentials, client)
    except InvalidClientError:
        await throttle.failed((throttle.policy.client, account), (throttle.policy.ip, ip))
        raise
