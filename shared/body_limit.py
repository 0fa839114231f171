"""A cap on request body size, for every service: one ASGI middleware.

A body declared larger than the cap (`Content-Length`) is refused before the application
runs. A body without a declared size (chunked) is counted as the application reads it, and
cut off at the cap: the client gets the 413 at once and the application sees a disconnect,
so it stops reading. A body nobody reads (a request refused before its body matters, such
as one without a token) is never read at all, whatever its size; nor are GET, HEAD and
OPTIONS bodies looked at, as no route reads them (this keeps the hot GETs at their cost).

The answer is 413 `invalid_request` in the RFC 6749 §5.2 JSON shape, or what the service's
`render` makes of the error (the authorization server shows its pages' error page).
"""

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.error_handlers import error_response
from shared.errors import PayloadTooLargeError

Render = Callable[[Scope, PayloadTooLargeError], Awaitable[Response]]
_DISCONNECT: Message = {"type": "http.disconnect"}
_BODILESS_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


async def _json(scope: Scope, error: PayloadTooLargeError) -> Response:
    return error_response(error)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, render: Render = _json) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODILESS_METHODS:
            # No route reads a body on these: the hot GETs pay no header scan.
            await self.app(scope, receive, send)
            return
        declared, streamed = _body_framing(scope)
        if streamed:
            await _LimitedRequest(self, scope, receive, send).run()
        elif declared is not None and declared > self.max_bytes:
            await self.refuse(scope, send)
        else:
            # No body, or one within its declared size, which the server holds the client to:
            # nothing to count (and nothing added to the cost of the hot GET routes).
            await self.app(scope, receive, send)

    async def refuse(self, scope: Scope, send: Send) -> None:
        """Answer 413; the unread rest of the body makes the connection unusable: close it."""
        error = PayloadTooLargeError(f"request body larger than {self.max_bytes} bytes")
        response = await self.render(scope, error)
        response.headers["connection"] = "close"
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return _DISCONNECT


class _LimitedRequest:
    """One request whose body has no declared size: counted as it is read."""

    def __init__(
        self, limit: BodyLimitMiddleware, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.limit = limit
        self.scope = scope
        self.received = 0
        self.started = False  # the application began its response
        self.refused = False  # the 413 went out instead
        self._receive = receive
        self._send = send

    async def run(self) -> None:
        try:
            await self.limit.app(self.scope, self.receive, self.send)
        except Exception:
            # After the 413 the application only sees a disconnect; what it raises about
            # that is not an error of this request.
            if not self.refused:
                raise

    async def receive(self) -> Message:
        if self.refused:
            return _DISCONNECT
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit.max_bytes:
                if not self.started:
                    self.refused = True
                    await self.limit.refuse(self.scope, self._send)
                return _DISCONNECT
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the 413 is the answer; drop whatever the application says next
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _body_framing(scope: Scope) -> tuple[int | None, bool]:
    """The declared `Content-Length`, and whether the body must be counted as it comes:
    chunked (which wins over a length, RFC 9112 §6.3), or of no declared size at all
    (HTTP/2 needs neither header)."""
    declared: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = int(value) if value.isdigit() else None
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked or declared is None
