"""Who is asking: forwarded headers are believed only from the proxies the operator names.

uvicorn (`--proxy-headers`, on by default) replaces the client address with the one in
`X-Forwarded-For` when the peer is in its `--forwarded-allow-ips`, which defaults to
`$FORWARDED_ALLOW_IPS` or else loopback: any local process could choose the address the
throttles count it as. Each service's `*_FORWARDED_ALLOW_IPS` (default empty: no proxy) is
passed to uvicorn wherever the project starts it (`uvicorn_options`, `uvicorn_arguments`),
and `ForwardedGuard` holds the empty default under a uvicorn started with its own defaults.

The same options bound the request head: uvicorn's default HTTP implementation here is
httptools, which buffers headers of any size and number; h11 refuses a request line plus
headers over `MAX_REQUEST_HEAD_BYTES` with 400.
"""

from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

HTTP_IMPLEMENTATION = "h11"
MAX_REQUEST_HEAD_BYTES = 16 * 1024
"""h11's own default, stated: request line and headers together (so also their number)."""


def uvicorn_options(forwarded_allow_ips: str) -> dict[str, Any]:
    """Keyword arguments of `uvicorn.run` for a service with this proxy setting."""
    return {
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,  # "" trusts no peer (never None: $ENV)
        "http": HTTP_IMPLEMENTATION,
        "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
    }


def uvicorn_arguments(forwarded_allow_ips: str) -> list[str]:
    """The same as `uvicorn` command-line arguments."""
    return [
        f"--forwarded-allow-ips={forwarded_allow_ips}",
        f"--http={HTTP_IMPLEMENTATION}",
        f"--h11-max-incomplete-event-size={MAX_REQUEST_HEAD_BYTES}",
    ]


def _taken_from_forwarded(host: str, headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether `host` is one of the `X-Forwarded-For` entries (as uvicorn reads them:
    `host`, `host:port` or `[host]:port`), so a server in front may have put it there."""
    for name, value in headers:
        if name != b"x-forwarded-for":
            continue
        for entry in value.decode("latin-1").split(","):
            entry = entry.strip()
            if entry == host or entry.startswith((f"{host}:", f"[{host}]")):
                return True
    return False


class ForwardedGuard:
    """With no proxy named, a client address that uvicorn's defaults took from
    `X-Forwarded-For` is not believed: the request counts as coming from the local address
    it reached (its real peer was local: uvicorn trusts loopback by default).

    An address that merely equals an entry of the header (a peer naming itself) is moved
    the same way; it can only join the local peers' budget, never choose another."""

    def __init__(self, app: ASGIApp, *, forwarded_allow_ips: str) -> None:
        self.app = app
        self.believe = bool(forwarded_allow_ips)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if (
            not self.believe
            and scope["type"] in ("http", "websocket")
            and client
            and _taken_from_forwarded(client[0], scope["headers"])
        ):
            server = scope.get("server")
            scope["client"] = (server[0], 0) if server else None
        await self.app(scope, receive, send)


def install_forwarded_guard(app: Starlette, forwarded_allow_ips: str) -> None:
    """Outermost of the app's middleware, so that every layer sees the believed client."""
    app.add_middleware(ForwardedGuard, forwarded_allow_ips=forwarded_allow_ips)
