"""ForwardedGuard and the uvicorn options (shared/forwarded.py), without a server.

The real processes (the launcher, `dropletbook-as demo`, a bare `uvicorn`) are in
tests/test_uvicorn_starts.py.
"""

import asyncio
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from shared.forwarded import ForwardedGuard, uvicorn_arguments, uvicorn_options

SERVER = ("127.0.0.1", 8000)


def _seen_client(scope: dict[str, Any], forwarded_allow_ips: str) -> Any:
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["client"] = scope["client"]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        pass

    guard = ForwardedGuard(app, forwarded_allow_ips=forwarded_allow_ips)
    asyncio.run(guard(scope, receive, send))
    return seen["client"]


def _scope(client: tuple[str, int], *forwarded: bytes) -> dict[str, Any]:
    headers = [(b"host", b"as.example")] + [(b"x-forwarded-for", value) for value in forwarded]
    return {"type": "http", "client": client, "server": SERVER, "headers": headers}


@pytest.mark.parametrize(
    ("client", "forwarded", "seen"),
    [
        pytest.param(("198.51.100.7", 0), [b"198.51.100.7"], ("127.0.0.1", 0), id="taken"),
        pytest.param(("198.51.100.7", 99), [b"10.0.0.1, 198.51.100.7:99"], ("127.0.0.1", 0),
                     id="taken-with-port"),
        pytest.param(("2001:db8::1", 0), [b"x", b"[2001:db8::1]:5"], ("127.0.0.1", 0),
                     id="ipv6-second-header"),
        pytest.param(("127.0.0.1", 5000), [b"198.51.100.7"], ("127.0.0.1", 5000),
                     id="the-real-peer"),
        pytest.param(("127.0.0.1", 5000), [], ("127.0.0.1", 5000), id="no-header"),
        pytest.param(("198.51.100.70", 0), [b"198.51.100.7"], ("198.51.100.70", 0),
                     id="prefix-is-not-equal"),
    ],
)  # fmt: skip
def test_no_proxy_named_a_forwarded_address_is_not_believed(
    client: tuple[str, int], forwarded: list[bytes], seen: tuple[str, int]
) -> None:
    assert _seen_client(_scope(client, *forwarded), "") == seen


def test_with_a_proxy_named_uvicorn_decides() -> None:
    """uvicorn, given the same list, replaced the address only for a named proxy."""
    scope = _scope(("198.51.100.7", 0), b"198.51.100.7")
    assert _seen_client(scope, "127.0.0.1/32") == ("198.51.100.7", 0)


def test_uvicorn_is_told_the_proxies_and_bounds_the_request_head() -> None:
    assert uvicorn_options("")["forwarded_allow_ips"] == ""  # never None: $FORWARDED_ALLOW_IPS
    assert uvicorn_options("10.0.0.5/32")["http"] == "h11"
    assert "--forwarded-allow-ips=10.0.0.5/32" in uvicorn_arguments("10.0.0.5/32")
    assert "--http=h11" in uvicorn_arguments("")
