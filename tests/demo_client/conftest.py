"""Dropletbook in-process, with its back channel served by fakes."""

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from services.demo_client.main import create_app
from services.demo_client.settings import Settings
from tests.demo_client.fakes import AS_INTERNAL, RS_INTERNAL, FakeServers
from tests.harness.browser import Browser
from tests.harness.servers import InProcessApp

ISSUER = "https://as.example"
PUBLIC_URL = "http://testserver"


@pytest.fixture
def client_settings(database_url: str) -> Settings:
    return Settings(
        environment="development",
        database_url=database_url,
        public_url=PUBLIC_URL,
        issuer=ISSUER,
        as_internal_url=AS_INTERNAL,
        rs_url="https://api.example",
        rs_internal_url=RS_INTERNAL,
    )


@pytest.fixture
def fake() -> FakeServers:
    return FakeServers()


@pytest.fixture
def app(client_settings: Settings, fake: FakeServers) -> FastAPI:
    return create_app(client_settings, http=httpx.Client(transport=fake.transport()))


@pytest.fixture
def running_app(app: FastAPI) -> Iterator[InProcessApp]:
    """The app with its lifespan (start-up, background purge) running."""
    with InProcessApp(app) as running:
        yield running


@pytest.fixture
def browser(running_app: InProcessApp) -> Browser:
    return running_app.browser(PUBLIC_URL)


@pytest.fixture
def attacker(running_app: InProcessApp) -> Browser:
    """A second browser on the same running app."""
    return running_app.browser(PUBLIC_URL)
