"""CORS on the endpoints that browser-based clients call directly, and nowhere else.

The authorization endpoint and the HTML pages never answer cross-origin reads: they
carry the user's session, and a cross-origin read of them would defeat consent.
"""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORS_PATHS = frozenset(
    {
        "/v1/oauth/token",
        "/v1/oauth/revoke",
        "/v1/oauth/introspect",
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/v1/oauth/userinfo",
        "/.well-known/jwks.json",
    }
)


# Any origin may read these responses (no credentials are involved). They differ with and
# without `Origin`, hence `Vary` either way, as Starlette's CORSMiddleware sends it.
_WITH_ORIGIN = ((b"access-control-allow-origin", b"*"), (b"vary", b"Origin"))
_WITHOUT_ORIGIN = ((b"vary", b"Origin"),)


class EndpointCORSMiddleware:
    """Starlette's CORSMiddleware answers preflights; actual requests get two static headers.

    Starlette's per-response header rewriting costs the token endpoint about 4% of its
    throughput; for an allow-all, credential-free policy the headers are constants.
    """

    def __init__(self, app: ASGIApp, paths: frozenset[str] = CORS_PATHS) -> None:
        self._app = app
        self._paths = paths
        self._preflight = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self._paths:
            await self._app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await self._preflight(scope, receive, send)
            return
        has_origin = any(name == b"origin" for name, _ in scope["headers"])
        cors_headers = _WITH_ORIGIN if has_origin else _WITHOUT_ORIGIN

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *cors_headers]
            await send(message)

        await self._app(scope, receive, send_with_cors)
