"""Dropletbook in-process, with its back channel served by fakes."""

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from services.demo_client.main import create_app
from services.demo_client.settings import Settings
from tests.demo_client.fakes import AS_INTERNAL, RS_INTERNAL, FakeServers

ISSUER = "https://as.example"
PUBLIC_URL = "http://testserver"


class Browser:
    """A synchronous in-process client (httpx.ASGITransport) on an app running in `portal`:
    it keeps its own cookies and does not follow redirects."""

    def __init__(self, app: FastAPI, portal: BlockingPortal) -> None:
        self.portal = portal
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL, follow_redirects=False
        )

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(functools.partial(self.client.get, url, **kwargs))

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(functools.partial(self.client.post, url, **kwargs))

    @property
    def cookies(self) -> httpx.Cookies:
        return self.client.cookies

    def close(self) -> None:
        self.portal.call(self.client.aclose)


@contextlib.contextmanager
def running(app: FastAPI) -> Iterator[BlockingPortal]:
    """The app with its lifespan (start-up, background purge) running in a portal thread."""
    with start_blocking_portal() as portal:
        lifespan = app.router.lifespan_context(app)
        portal.call(lifespan.__aenter__)
        try:
            yield portal
        finally:
            portal.call(lifespan.__aexit__, None, None, None)


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
def portal(app: FastAPI) -> Iterator[BlockingPortal]:
    with running(app) as portal:
        yield portal


@pytest.fixture
def browser(app: FastAPI, portal: BlockingPortal) -> Iterator[Browser]:
    client = Browser(app, portal)
    yield client
    client.close()


@pytest.fixture
def attacker(app: FastAPI, portal: BlockingPortal) -> Iterator[Browser]:
    """A second browser on the same running app."""
    client = Browser(app, portal)
    yield client
    client.close()
