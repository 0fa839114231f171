"""Per-request Python cost of the hot endpoints, in-process: no server, no socket, no wrk.

Run with `.venv/bin/python bench/in_process.py` (`--help` for the options).

`token_endpoint.py` and `resource_server.py` measure what users get, over loopback; their
ratios also carry uvicorn's and the kernel's per-request work, which varies a lot from one
machine (or one hour of a shared VM) to the next. This script calls each application's ASGI
entry point directly in a loop and prints, per endpoint, the best and the median
microseconds per request over `--batches` batches of `--requests` requests:

- authorization server: `GET /healthz` and `POST /v1/oauth/token` (client credentials,
  `client_secret_basic`), with the same settings as `token_endpoint.py`;
- resource server: `GET /healthz` and `GET /v2/account` with a bearer token from that token
  endpoint. The resource server discovers the authorization server's metadata and JWKS
  through `httpx.ASGITransport`, so key fetching and the verified-token cache run as in
  production.

The best batch is the figure to compare between two versions of the code: on a busy
machine other work only ever adds time. `--profile` prints a cProfile table (by own time)
of the token and account requests instead. `--layers` times the token request entered at
each layer of the authorization server's stack instead, from `FastAPI.__call__` down to
the `TokenEndpoint` handler, alternating the layers batch by batch and counting this
thread's CPU time (which other processes disturb less than the wall clock): the difference
between two rows is what the layer between them costs.
"""

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from resource_server import seed_clients
from wrk_driver import Credentials

from services.authorization_server.main import create_app as create_authorization_server
from services.authorization_server.settings import Settings as AuthorizationSettings
from services.resource_server.main import create_app as create_resource_server
from services.resource_server.settings import Settings as ResourceSettings

ISSUER = "http://as.bench"
AUDIENCE = "http://rs.bench"
TOKEN_PATH = "/v1/oauth/token"  # noqa: S105 (a path, not a secret)
TOKEN_BODY = b"grant_type=client_credentials&scope=read"

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def request_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 50000),
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"bench"), *headers],
        "state": {},
    }


async def call(app: Asgi, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> bytes:
    """One request through the app's ASGI entry point; the body of its 200 answer."""
    body = TOKEN_BODY if method == "POST" else b""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(request_scope(method, path, headers), receive, send)
    if sent[0]["status"] != 200:
        raise RuntimeError(f"{method} {path}: {sent[0]['status']} {sent[-1].get('body')!r}")
    return bytes(sent[-1]["body"])


async def batches(
    app: Asgi, method: str, path: str, headers: list[tuple[bytes, bytes]], args: argparse.Namespace
) -> list[float]:
    """Microseconds per request of each batch."""
    for _ in range(args.requests // 5):  # warm-up: caches, pools, the verified-token cache
        await call(app, method, path, headers)
    figures = []
    for _ in range(args.batches):
        start = time.perf_counter()
        for _ in range(args.requests):
            await call(app, method, path, headers)
        figures.append((time.perf_counter() - start) / args.requests * 1e6)
    return figures


async def run(args: argparse.Namespace, workdir: Path) -> None:
    database = f"sqlite:///{workdir / 'as.db'}"
    client, feed = seed_clients(database, ISSUER, AUDIENCE)
    authorization_server = create_authorization_server(
        AuthorizationSettings(
            environment="development",
            database_url=database,
            issuer=ISSUER,
            resource_audience=AUDIENCE,
            revocation_feed_clients=[feed.client_id],
            log_level="warning",
        )
    )
    resource_server = create_resource_server(
        ResourceSettings(
            environment="development",
            database_url=f"sqlite:///{workdir / 'rs.db'}",
            issuer=ISSUER,
            audience=AUDIENCE,
            feed_client_id=feed.client_id,
            feed_client_secret=feed.client_secret,
            log_level="warning",
        ),
        transport=httpx.ASGITransport(app=authorization_server),
    )
    token_headers = _token_headers(client)
    async with (
        authorization_server.router.lifespan_context(authorization_server),
        resource_server.router.lifespan_context(resource_server),
    ):
        token = await call(authorization_server, "POST", TOKEN_PATH, token_headers)
        bearer = [(b"authorization", b"Bearer " + _access_token(token))]
        cases: list[tuple[str, Asgi, str, str, list[tuple[bytes, bytes]]]] = [
            ("AS GET /healthz", authorization_server, "GET", "/healthz", []),
            ("AS POST /v1/oauth/token", authorization_server, "POST", TOKEN_PATH, token_headers),
            ("RS GET /healthz", resource_server, "GET", "/healthz", []),
            ("RS GET /v2/account", resource_server, "GET", "/v2/account", bearer),
        ]
        if args.layers:
            await _time_layers(authorization_server, token_headers, args)
            return
        if args.profile:
            for name, app, method, path, headers in (cases[1], cases[3]):
                await call(app, method, path, headers)
                print(f"\n== {name}: {args.requests} requests, by own time")
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(args.requests):
                    await call(app, method, path, headers)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            return
        print(f"{args.batches} batches of {args.requests} requests; µs per request")
        print(f"{'endpoint':<26}{'best':>8}{'median':>8}")
        for name, app, method, path, headers in cases:
            figures = await batches(app, method, path, headers, args)
            print(f"{name:<26}{min(figures):8.1f}{statistics.median(figures):8.1f}", flush=True)


def _stack_layers(app: Any) -> list[tuple[str, Asgi]]:
    """The application, each middleware down to `TokenFastPath`, then the token handler."""
    layers: list[tuple[str, Asgi]] = [("FastAPI.__call__", app)]
    layer = app.middleware_stack
    while type(layer).__name__ != "TokenFastPath":
        layers.append((type(layer).__name__, layer))
        layer = getattr(layer, "app", None) or layer._app
    layers.append(("TokenFastPath", layer))
    return [*layers, ("TokenEndpoint (the handler)", layer._handler)]


async def _time_layers(
    app: Any, headers: list[tuple[bytes, bytes]], args: argparse.Namespace
) -> None:
    layers = _stack_layers(app)
    figures: dict[str, list[float]] = {name: [] for name, _ in layers}
    for _ in range(args.batches):
        for name, layer in layers:
            start = time.thread_time()
            for _ in range(args.requests):
                await call(layer, "POST", TOKEN_PATH, headers)
            figures[name].append((time.thread_time() - start) / args.requests * 1e6)
    print(f"POST {TOKEN_PATH} entered at each layer: CPU µs per request, {args.batches} batches")
    print(f"{'entered at':<32}{'best':>8}{'median':>8}")
    for name, _ in layers:
        print(f"{name:<32}{min(figures[name]):8.1f}{statistics.median(figures[name]):8.1f}")


def _token_headers(client: Credentials) -> list[tuple[bytes, bytes]]:
    return [
        (b"authorization", client.authorization.encode()),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(TOKEN_BODY)).encode()),
    ]


def _access_token(token_response: bytes) -> bytes:
    return str(json.loads(token_response)["access_token"]).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per batch (3000)")
    parser.add_argument("--batches", type=int, default=7, help="batches per endpoint (7)")
    parser.add_argument("--profile", action="store_true", help="cProfile instead of timing")
    parser.add_argument(
        "--layers",
        action="store_true",
        help="time the token request entered at each layer of the AS stack instead",
    )
    args = parser.parse_args()
    if min(args.requests, args.batches) < 1:
        parser.error("--requests and --batches must be positive")
    with tempfile.TemporaryDirectory(prefix="dropletbook-in-process-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
