"""The authorization server under test, in-process or as a real process, behind one handle.

with in_process_authorization_server(test_settings(url)) as server:  # API and page tests
with live_authorization_server(databases, logs_dir, "name") as server:  # a real socket
    make_user(server.context)                     # seed its database with factories
    server.post("/v1/oauth/token", data=..., auth=...)   # one request, no cookies kept
    with server.browser() as browser: ...         # a cookie-keeping user agent
"""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.authorization_server.context import ServerContext
from services.authorization_server.db import create_tables, make_engine
from services.authorization_server.main import create_app
from services.authorization_server.settings import Settings
from tests.databases import TestDatabases
from tests.factories import as_environment, test_settings
from tests.harness.browser import Browser
from tests.harness.servers import DEFAULT_IP, InProcessApp, LiveServer, free_port


@dataclass
class AuthorizationServer:
    url: str  # the issuer, where its endpoints are
    settings: Settings
    context: ServerContext  # on the server's database, for seeding it with factories
    _transport: Callable[[str], httpx.BaseTransport | None]  # by client IP; None: network
    process: LiveServer | None = None  # the real process, for a live server
    _stop: Callable[[], None] = lambda: None
    _browsers: list[Browser] = field(default_factory=list)

    def browser(self, *, ip: str = DEFAULT_IP) -> Browser:
        """A new cookie-keeping browser from `ip` (in-process only); closed with the server."""
        assert ip == DEFAULT_IP or self.process is None, "a live server sees loopback only"
        browser = Browser(self.url, transport=self._transport(ip))
        self._browsers.append(browser)
        return browser

    def close(self) -> None:
        """Close its browsers and stop the server."""
        for browser in self._browsers:
            browser.close()
        self._browsers.clear()
        self._stop()

    def client(self, **kwargs: Any) -> httpx.Client:
        """A plain `httpx.Client` on the server (for threads, timeouts); close it."""
        return httpx.Client(base_url=self.url, transport=self._transport(DEFAULT_IP), **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, like `httpx.request`: no cookies kept, redirects not followed."""
        with self.client() as http:
            return http.request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("OPTIONS", path, **kwargs)


@contextmanager
def in_process_authorization_server(
    databases: TestDatabases, **overrides: Any
) -> Iterator[AuthorizationServer]:
    """In-process on a fresh database, with `tests.factories.test_settings(**overrides)`."""
    with serve_in_process(test_settings(databases.new_url("as"), **overrides)) as server:
        yield server


def start_in_process(settings: Settings) -> AuthorizationServer:
    """`create_app(settings)` with its lifespan running, reached without a socket; close it."""
    running = InProcessApp(create_app(settings))
    context = running.app.state.context  # type: ignore[attr-defined]
    return AuthorizationServer(
        settings.issuer, settings, context, running.transport, _stop=running.close
    )


@contextmanager
def serve_in_process(settings: Settings) -> Iterator[AuthorizationServer]:
    server = start_in_process(settings)
    try:
        yield server
    finally:
        server.close()


@contextmanager
def live_authorization_server(
    databases: TestDatabases, logs_dir: Path, name: str, **overrides: Any
) -> Iterator[AuthorizationServer]:
    """`uvicorn services.authorization_server.main:app` on a free port and a fresh database."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = test_settings(databases.new_url("as"), issuer=url, **overrides)
    process = LiveServer(
        "services.authorization_server.main:app",
        as_environment(settings),
        port=port,
        log=logs_dir / f"as-{name}.log",
    )
    process.start()
    context = open_context(settings)
    server = AuthorizationServer(url, settings, context, lambda ip: None, process, process.stop)
    try:
        yield server
    finally:
        server.close()
        close_context(context)


@contextmanager
def prepared_database(settings: Settings) -> Iterator[ServerContext]:
    """A context on `settings`' database with its tables and a signing key, for seeding rows
    (clients the server's settings must name) before the server starts."""
    context = open_context(settings, prepare=True)
    try:
        yield context
    finally:
        close_context(context)


def open_context(settings: Settings, *, prepare: bool = False) -> ServerContext:
    """A context on `settings`' database outside any server, for seeding it with factories
    (with `prepare`, its tables and a signing key first); close it with `close_context`.

    Its async engine keeps no connections (`db_pool_size` 0): tests drive it with
    `asyncio.run`, a new event loop per call, and a pooled connection can be closed only on
    the loop that opened it, gone by the time the context is closed.
    """
    unpooled = settings.model_copy(update={"db_pool_size": 0})
    context = ServerContext.build(unpooled, make_engine(settings.database_url))
    if prepare:
        create_tables(context.engine)
        context.keys.ensure_key()
    return context


def close_context(context: ServerContext) -> None:
    """Dispose both engines of an `open_context` (a server's own are its lifespan's)."""
    context.engine.dispose()
    asyncio.run(context.db.dispose())  # holds no connection, so no loop of its own to await
