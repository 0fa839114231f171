"""One host for the demo: a page opened on another loopback name than the service's public
URL (http://localhost:8080 where the public URL is http://127.0.0.1:8080) is sent there.

Browsers keep cookies per host name, so a flow started on `localhost` and called back on
`127.0.0.1` arrives without its state cookie and fails as a possible CSRF attack. Only
loopback names are redirected, and only in development: back-channel calls between services
(Host `authorization-server:8000` under compose) and production hosts pass untouched.
"""

from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.http import is_loopback_host

_SAFE_METHODS = ("GET", "HEAD")  # a redirect would drop a form's body


class PublicHostRedirect:
    """307 to the public URL for a page request whose Host is another loopback name."""

    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self._public_host = (parts.hostname or "").lower()
        self._public_netloc = parts.netloc
        self._public_scheme = parts.scheme

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _SAFE_METHODS:
            target = self._redirect_target(scope)
            if target is not None:
                await RedirectResponse(target, status_code=307)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _redirect_target(self, scope: Scope) -> str | None:
        if scope["path"] == "/healthz":  # probes may use any name
            return None
        host = next((value for name, value in scope["headers"] if name == b"host"), b"")
        try:
            hostname = urlsplit("//" + host.decode("ascii")).hostname or ""
        except (UnicodeDecodeError, ValueError):
            return None  # the router answers a malformed Host as it always has
        if hostname == self._public_host or not is_loopback_host(hostname):
            return None
        url = URL(scope=scope)
        return str(url.replace(scheme=self._public_scheme, netloc=self._public_netloc))


def install_public_host_redirect(app: Starlette, public_url: str, *, development: bool) -> None:
    """In development, when the public URL is on loopback, other loopback names redirect."""
    if development and is_loopback_host((urlsplit(public_url).hostname or "").lower()):
        app.add_middleware(PublicHostRedirect, public_url=public_url)
