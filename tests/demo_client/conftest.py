"""Dropletbook in-process, with its back channel served by fakes."""

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from fastapi import FastAPI

from services.demo_client.main import create_app
from services.demo_client.settings import Settings
from tests.demo_client.fakes import AS_INTERNAL, RS_INTERNAL, FakeServers

ISSUER = "https://as.example"
PUBLIC_URL = "http://testserver"


class Browser:
    """A synchronous in-process client (httpx.ASGITransport) that keeps cookies, runs the
    app's lifespan, and does not follow redirects."""

    def __init__(self, app: FastAPI) -> None:
        self._portal_context = start_blocking_portal()
        self.portal = self._portal_context.__enter__()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL, follow_redirects=False
        )
        self._lifespan = app.router.lifespan_context(app)
        self.portal.call(self._lifespan.__aenter__)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(functools.partial(self.client.get, url, **kwargs))

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(functools.partial(self.client.post, url, **kwargs))

    @property
    def cookies(self) -> httpx.Cookies:
        return self.client.cookies

    def close(self) -> None:
        self.portal.call(self._lifespan.__aexit__, None, None, None)
        self.portal.call(self.client.aclose)
        self._portal_context.__exit__(None, None, None)


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
def browser(client_settings: Settings, fake: FakeServers) -> Iterator[Browser]:
    app = create_app(client_settings, http=httpx.Client(transport=fake.transport()))
    client = Browser(app)
    yield client
    client.close()
