"""Request bodies, read once through one capped reader (`read_body`) and parsed here.

- `read_form`: the urlencoded body of the back-channel endpoints (and the login and consent
  forms): no repeated parameters (RFC 6749 §3.1), nothing in the query string.
- `read_page_form`: a portal page's form, where a group of checkboxes repeats its name.
- `read_json_object`: the JSON object of RFC 7591 registration and `/v1/apps/self`.

Handlers never use FastAPI `Form()` or `Body()` (which parse again per parameter and cost the
token endpoint about a fifth of its throughput); a route that reads here declares no body
parameters, so the body is still unread when it calls. `BodyLimitMiddleware` caps bodies
of every route too; the cap here makes each reader safe on its own.
"""

import json
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from shared.errors import InvalidRequestError, PayloadTooLargeError
from shared.http import FORM_CONTENT_TYPE, is_form_content_type, parse_form


def _too_large(max_bytes: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"request body larger than {max_bytes} bytes")


def check_declared_length(content_length: str | None, *, max_bytes: int) -> None:
    """Refuse a declared size over the cap before anything is read."""
    if content_length is not None and (
        not content_length.isdigit() or int(content_length) > max_bytes
    ):
        raise _too_large(max_bytes)


async def read_body(receive: Receive, *, max_bytes: int) -> bytes:
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
            raise _too_large(max_bytes)
        chunks.append(chunk)
        more_body = message.get("more_body", False)
    return b"".join(chunks)


def check_form_request(
    *, query_string: bytes, content_type: str | None, content_length: str | None, max_bytes: int
) -> None:
    """Refuse query-string parameters (credentials never sit in URLs), other media types
    and declared sizes over the limit, before the body is read."""
    if query_string:
        raise InvalidRequestError("parameters must be sent in the request body, not the URL")
    if not is_form_content_type(content_type):
        raise InvalidRequestError("content type must be application/x-www-form-urlencoded")
    check_declared_length(content_length, max_bytes=max_bytes)


def form_parameters(openapi_form: Mapping[str, Any]) -> frozenset[str]:
    """The parameter names an endpoint recognizes: those its OpenAPI request body documents.

    Any other parameter is ignored, even repeated (RFC 6749 §3.1)."""
    content = openapi_form["requestBody"]["content"][FORM_CONTENT_TYPE]
    return frozenset(content["schema"]["properties"])


async def read_form(
    request: Request, *, max_bytes: int, known: Container[str] | None = None
) -> dict[str, str]:
    """The checked and parsed form body of a request (`known`: see `parse_form`)."""
    check_form_request(
        query_string=request.scope["query_string"],
        content_type=request.headers.get("content-type"),
        content_length=request.headers.get("content-length"),
        max_bytes=max_bytes,
    )
    body = await read_body(request.receive, max_bytes=max_bytes)
    return parse_form(body, max_bytes=max_bytes, known=known)


@dataclass(frozen=True)
class PageForm:
    """A page's form fields in order; a name may repeat (a group of checkboxes)."""

    pairs: list[tuple[str, str]]

    def get(self, name: str, default: str = "") -> str:
        return next((value for key, value in self.pairs if key == name), default)

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


async def read_page_form(request: Request, *, max_bytes: int) -> PageForm:
    """The urlencoded body of a page POST (its CSRF token is checked by `CsrfForm`).

    A body without a content type (an empty POST) is read as an empty form: it then fails
    the CSRF check like any other form without a token.
    """
    content_type = request.headers.get("content-type")
    if content_type is not None and not is_form_content_type(content_type):
        raise InvalidRequestError("content type must be application/x-www-form-urlencoded")
    check_declared_length(request.headers.get("content-length"), max_bytes=max_bytes)
    body = await read_body(request.receive, max_bytes=max_bytes)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError("request body is not valid UTF-8 form data") from None
    return PageForm(pairs)


async def read_json_object(request: Request, *, max_bytes: int) -> dict[str, Any]:
    """The JSON object in the body; anything else is `invalid_request`, never a 500."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise InvalidRequestError("content type must be application/json")
    check_declared_length(request.headers.get("content-length"), max_bytes=max_bytes)
    body = await read_body(request.receive, max_bytes=max_bytes)
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # bad JSON or UTF-8; absurd nesting
        raise InvalidRequestError("request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRequestError("request body must be a JSON object")
    return value
