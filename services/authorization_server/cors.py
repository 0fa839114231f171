"""CORS on the endpoints that browser-based clients call directly, and nowhere else.

The authorization endpoint and the HTML pages never answer cross-origin reads: they
carry the user's session, and a cross-origin read of them would defeat consent.
"""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CORS_PATHS = frozenset(
    {
        "/v1/oauth/token",
        "/v1/oauth/revoke",
        "/v1/oauth/introspect",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
    }
)


class EndpointCORSMiddleware:
    def __init__(self, app: ASGIApp, paths: frozenset[str] = CORS_PATHS) -> None:
        self._app = app
        self._paths = paths
        self._cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self._paths:
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
