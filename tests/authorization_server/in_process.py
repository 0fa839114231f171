"""The authorization server in-process (httpx.ASGITransport, lifespan run), with clients
that come from chosen IP addresses, for tests where who is asking matters."""

import functools
from typing import Any

import httpx
from anyio.from_thread import start_blocking_portal

from services.authorization_server.context import ServerContext
from services.authorization_server.main import create_app
from services.authorization_server.settings import Settings
from tests.authorization_server.browser import hidden_fields


class Visitor:
    """A cookie-keeping client from one IP address; does not follow redirects."""

    def __init__(self, server: "InProcessServer", ip: str) -> None:
        self._portal = server.portal
        transport = httpx.ASGITransport(app=server.app, client=(ip, 40000))
        self.http = httpx.AsyncClient(transport=transport, base_url=server.settings.issuer)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(functools.partial(self.http.get, url, **kwargs))

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(functools.partial(self.http.post, url, **kwargs))

    def submit(self, page_url: str, action: str, fields: dict[str, str]) -> httpx.Response:
        """Load a form page, then post it with its hidden fields (CSRF) and `fields`."""
        page = self.get(page_url)
        assert page.status_code == 200, page.text
        return self.post(action, data=hidden_fields(page.text) | fields)

    def login(self, email: str, password: str) -> httpx.Response:
        return self.submit("/login", "/login", {"email": email, "password": password})


class InProcessServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.context: ServerContext = self.app.state.context
        self._portal_context = start_blocking_portal()
        self.portal = self._portal_context.__enter__()
        self._lifespan = self.app.router.lifespan_context(self.app)
        self.portal.call(self._lifespan.__aenter__)
        self._visitors: list[Visitor] = []

    def visitor(self, ip: str = "198.51.100.7") -> Visitor:
        visitor = Visitor(self, ip)
        self._visitors.append(visitor)
        return visitor

    def close(self) -> None:
        for visitor in self._visitors:
            self.portal.call(visitor.http.aclose)
        self.portal.call(self._lifespan.__aexit__, None, None, None)
        self._portal_context.__exit__(None, None, None)
