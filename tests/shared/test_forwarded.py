"""ForwardedHeaders and the uvicorn options (shared/forwarded.py), without a server.

The real processes (the launcher, `dropletbook-as demo`, a bare `uvicorn`) are in
tests/test_uvicorn_starts.py.
"""

import asyncio
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from shared.forwarded import ForwardedHeaders, uvicorn_arguments, uvicorn_options

SERVER = ("127.0.0.1", 8000)


def _seen(scope: dict[str, Any], forwarded_allow_ips: str) -> Any:
    """The client the app sees, and its scheme."""
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["client"] = scope["client"], scope["scheme"]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        pass

    middleware = ForwardedHeaders(app, forwarded_allow_ips=forwarded_allow_ips)
    asyncio.run(middleware(scope, receive, send))
    return seen["client"]


def _scope(client: tuple[str, int], *forwarded: bytes, server: Any = SERVER) -> dict[str, Any]:
    headers = [(b"host", b"as.example"), (b"x-forwarded-proto", b"https")]
    headers += [(b"x-forwarded-for", value) for value in forwarded]
    return {"type": "http", "scheme": "http", "client": client, "server": server,
            "headers": headers}  # fmt: skip


LOCAL = (("127.0.0.1", 0), "http")


@pytest.mark.parametrize(
    ("client", "forwarded", "proxies", "seen"),
    [
        # Straight from the socket (the project's uvicorn reads no proxy header itself):
        pytest.param(("127.0.0.1", 5000), [b"198.51.100.7"], "", (("127.0.0.1", 5000), "http"),
                     id="no-proxy-named"),
        pytest.param(("127.0.0.1", 5000), [b"198.51.100.7"], "10.0.0.5",
                     (("127.0.0.1", 5000), "http"), id="another-proxy-named"),
        pytest.param(("10.0.0.5", 5000), [b"198.51.100.7"], "10.0.0.5",
                     (("198.51.100.7", 0), "https"), id="from-the-named-proxy"),
        pytest.param(("10.0.0.5", 5000), [b"198.51.100.7, 10.0.9.1"], "10.0.0.0/16",
                     (("198.51.100.7", 0), "https"), id="through-two-named-proxies"),
        pytest.param(("10.0.0.5", 5000), [], "10.0.0.5", (("10.0.0.5", 5000), "https"),
                     id="no-forwarded-for"),
        # Already taken from the header by a uvicorn with its defaults (loopback trusted):
        pytest.param(("198.51.100.7", 0), [b"198.51.100.7"], "", LOCAL, id="taken"),
        pytest.param(("198.51.100.7", 99), [b"10.0.0.1, 198.51.100.7:99"], "", LOCAL,
                     id="taken-with-port"),
        pytest.param(("2001:db8::1", 0), [b"x", b"[2001:db8::1]:5"], "", LOCAL,
                     id="ipv6-second-header"),
        pytest.param(("198.51.100.7", 0), [b"198.51.100.7"], "10.0.0.5", LOCAL,
                     id="taken-while-loopback-is-not-named"),
        pytest.param(("198.51.100.7", 0), [b"198.51.100.7"], "127.0.0.1",
                     (("198.51.100.7", 0), "http"), id="taken-from-a-named-local-proxy"),
        pytest.param(("198.51.100.70", 0), [b"198.51.100.7"], "", (("198.51.100.70", 0), "http"),
                     id="a-prefix-is-not-an-entry"),
    ],
)  # fmt: skip
def test_only_named_proxies_are_believed(
    client: tuple[str, int], forwarded: list[bytes], proxies: str, seen: Any
) -> None:
    assert _seen(_scope(client, *forwarded), proxies) == seen


def test_a_named_local_proxy_does_not_cover_other_addresses() -> None:
    """Taken from the header on a connection to a public address: its peer is unknown."""
    scope = _scope(("198.51.100.7", 0), b"198.51.100.7", server=("10.0.0.9", 8000))
    assert _seen(scope, "127.0.0.1,10.0.0.9") == (("10.0.0.9", 0), "http")


def test_uvicorn_leaves_proxy_headers_to_the_app_and_bounds_the_request_head() -> None:
    assert uvicorn_options()["proxy_headers"] is False
    assert uvicorn_options()["http"] == "h11"
    assert {"--no-proxy-headers", "--http=h11"} <= set(uvicorn_arguments())
