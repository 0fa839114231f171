"""HTTP Strict Transport Security (RFC 6797) for a service whose public URL is https.

Browsers that saw the header once refuse plain HTTP to the host for `max-age` seconds, so a
network attacker cannot strip TLS from a later visit.
"""

from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS_MAX_AGE = 365 * 86400
HSTS_HEADER = (b"strict-transport-security", f"max-age={HSTS_MAX_AGE}".encode())


class HSTSMiddleware:
    """Adds `Strict-Transport-Security` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), HSTS_HEADER]
            await send(message)

        await self.app(scope, receive, send_with_hsts)


def uses_https(public_url: str) -> bool:
    return urlsplit(public_url).scheme == "https"


def with_hsts(app: ASGIApp, public_url: str) -> ASGIApp:
    """`app` wrapped in the HSTS middleware when `public_url` is https, else `app` itself."""
    return HSTSMiddleware(app) if uses_https(public_url) else app


def install_hsts(app: Starlette, public_url: str) -> None:
    """Every response of `app` carries HSTS when its public URL is https."""
    if uses_https(public_url):
        app.add_middleware(HSTSMiddleware)
