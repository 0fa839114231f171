"""Authorization server fixtures: settings, an in-process context, and the server itself
in-process (`as_server`) or as a real process (`live_as`); see `tests/harness`."""

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import User
from services.authorization_server.settings import Settings
from tests.authorization_server.oidc_flow import LogIn, NewRelyingParty, new_relying_party
from tests.databases import TestDatabases
from tests.factories import test_settings
from tests.harness.authorization_server import (
    AuthorizationServer,
    in_process_authorization_server,
    live_authorization_server,
    prepared_database,
)
from tests.harness.browser import Browser


@pytest.fixture
def settings(database_url: str) -> Settings:
    return test_settings(database_url)


@pytest.fixture
def context(settings: Settings) -> Iterator[ServerContext]:
    """A server context on a fresh database, for unit tests of the logic under the routes
    (its async engine driven with `asyncio.run`: see `open_context`)."""
    with prepared_database(settings) as context:
        yield context


@pytest.fixture(scope="module")
def as_server(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    """One in-process authorization server per test module, on its own database."""
    with in_process_authorization_server(databases) as server:
        yield server


@pytest.fixture(scope="module")
def live_as(
    databases: TestDatabases, logs_dir: Path, request: pytest.FixtureRequest
) -> Iterator[AuthorizationServer]:
    """One authorization server process per test module, on its own database."""
    with live_authorization_server(databases, logs_dir, request.module.__name__) as server:
        yield server


@pytest.fixture(scope="module")
def live_context(live_as: AuthorizationServer) -> ServerContext:
    """A context on the live server's database, for seeding it with factories."""
    return live_as.context


@pytest.fixture(scope="module")
def as_context(as_server: AuthorizationServer) -> ServerContext:
    """The in-process server's own context, for seeding its database with factories."""
    return as_server.context


@pytest.fixture
def log_in(as_server: AuthorizationServer) -> Iterator[LogIn]:
    """Open browsers signed in on the in-process server, as given users; closed after the test."""
    opened: list[Browser] = []

    def open_browser(user: User) -> Browser:
        browser = as_server.browser()
        opened.append(browser)
        return browser.sign_in(user.email)

    yield open_browser
    for browser in opened:
        browser.close()


@pytest.fixture
def relying_party(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> NewRelyingParty:
    """New OpenID Connect clients of the in-process server with their users (see oidc_flow)."""
    return functools.partial(new_relying_party, as_server, as_context, log_in)
