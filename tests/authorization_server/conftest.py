"""Authorization server fixtures: settings, an in-process context, and a live server."""

from collections.abc import Iterator

import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.db import create_tables, make_engine
from services.authorization_server.models import User
from services.authorization_server.settings import Settings
from tests.authorization_server.browser import Browser
from tests.authorization_server.oidc_flow import LogIn
from tests.databases import TestDatabases
from tests.factories import PASSWORD, as_environment, test_settings
from tests.live_server import LiveServer, free_port


@pytest.fixture
def settings(database_url: str) -> Settings:
    return test_settings(database_url)


@pytest.fixture
def context(settings: Settings) -> Iterator[ServerContext]:
    """A server context on a fresh database, for unit tests of the logic under the routes.

    Its async engine keeps no connections (`db_pool_size` 0): each test drives it with
    `asyncio.run`, a new event loop per call, and a pooled connection belongs to its loop.
    """
    unpooled = settings.model_copy(update={"db_pool_size": 0})
    context = ServerContext.build(unpooled, make_engine(settings.database_url))
    create_tables(context.engine)
    context.keys.ensure_key()
    yield context
    context.engine.dispose()


@pytest.fixture(scope="module")
def live_as(
    databases: TestDatabases, logs_dir, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """One authorization server process per test module, on its own database."""
    port = free_port()
    url = databases.new_url("as")
    settings = test_settings(url, issuer=f"http://127.0.0.1:{port}")
    server = LiveServer(
        "services.authorization_server.main:app",
        as_environment(settings),
        port=port,
        log=logs_dir / f"as-{request.module.__name__}.log",
    )
    server.start()
    server.settings = settings  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live_context(live_as: LiveServer) -> Iterator[ServerContext]:
    """A context on the live server's database, for seeding it with factories."""
    settings: Settings = live_as.settings  # type: ignore[attr-defined]
    context = ServerContext.build(settings, make_engine(settings.database_url))
    yield context
    context.engine.dispose()


@pytest.fixture
def log_in(live_as: LiveServer) -> Iterator[LogIn]:
    """Open browsers logged in on the live server, as given users; closed after the test."""
    opened: list[Browser] = []

    def open_browser(user: User) -> Browser:
        browser = Browser(live_as.url)
        opened.append(browser)
        assert browser.login(user.email, PASSWORD).status_code == 303
        return browser

    yield open_browser
    for browser in opened:
        browser.close()
