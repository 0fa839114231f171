"""Who is asking: forwarded headers are believed only from the proxies the operator names.

uvicorn's own `--proxy-headers` (on by default) replaces the client address with the one in
`X-Forwarded-For` when the peer is in `--forwarded-allow-ips`, which defaults to
`$FORWARDED_ALLOW_IPS` or else loopback: any local process could choose the address the
throttles count it as. So each service reads `X-Forwarded-For` and `X-Forwarded-Proto`
itself (`ForwardedHeaders`, with uvicorn's own middleware), from the peers its
`*_FORWARDED_ALLOW_IPS` names (default: none), and the project starts uvicorn with its
proxy headers off (`uvicorn_options`, `uvicorn_arguments`). Under a uvicorn started with its
defaults, an address uvicorn already took from the header is not believed unless loopback
is a named proxy.

The same options bound the request head: uvicorn's default HTTP implementation here is
httptools, which buffers headers of any size and number; h11 refuses a request line plus
headers over `MAX_REQUEST_HEAD_BYTES` with 400.
"""

import ipaddress
from typing import Any, cast

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

HTTP_IMPLEMENTATION = "h11"
MAX_REQUEST_HEAD_BYTES = 16 * 1024
"""h11's own default, stated: request line and headers together (so also their number)."""


def uvicorn_options() -> dict[str, Any]:
    """Keyword arguments of `uvicorn.run` for a service of the project."""
    return {
        "proxy_headers": False,  # the app reads them, from the proxies its settings name
        "http": HTTP_IMPLEMENTATION,
        "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
    }


def uvicorn_arguments() -> list[str]:
    """The same as `uvicorn` command-line arguments."""
    return [
        "--no-proxy-headers",
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


class ForwardedHeaders:
    """The client address (and scheme) from `X-Forwarded-*` when the peer is a named proxy.

    When the address already came from the header (uvicorn started with its defaults took
    it from a local peer), it stands only if loopback is a named proxy; otherwise the
    request counts as coming from the local address it reached, where its real peer was.
    A peer that names itself in the header is treated the same way: it can only join the
    local peers' budget, never choose another."""

    def __init__(self, app: ASGIApp, *, forwarded_allow_ips: str) -> None:
        self.app = app
        self.proxies = [
            ipaddress.ip_network(name, strict=False)
            for name in forwarded_allow_ips.split(",")
            if name.strip()
        ]
        # uvicorn's middleware, typed for its own scope types: the same ASGI callable
        self.from_proxies = (
            cast(ASGIApp, ProxyHeadersMiddleware(app, [str(n) for n in self.proxies]))  # type: ignore[arg-type]
            if self.proxies
            else app
        )

    def _local_proxy_named(self, server: tuple[str, int] | None) -> bool:
        """The connection reached a loopback address (so its peer is local) that is named."""
        try:
            address = ipaddress.ip_address(server[0]) if server else None
        except ValueError:
            return False
        return (
            address is not None
            and address.is_loopback
            and any(address in network for network in self.proxies)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if (
            scope["type"] in ("http", "websocket")
            and client
            and _taken_from_forwarded(client[0], scope["headers"])
        ):
            server = scope.get("server")
            if not self._local_proxy_named(server):
                scope["client"] = (server[0], 0) if server else None
            await self.app(scope, receive, send)
            return
        await self.from_proxies(scope, receive, send)


def install_forwarded_headers(app: Starlette, forwarded_allow_ips: str) -> None:
    """Outermost of the app's middleware, so that every layer sees the believed client."""
    app.add_middleware(ForwardedHeaders, forwarded_allow_ips=forwarded_allow_ips)
