"""`/docs` renders in Chromium with every non-loopback request blocked.

Stands for a machine without internet: Swagger UI must come from the service
itself. A console error (a script or style refused by the page's policy) fails the test.
"""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Route, expect

from tests.e2e.walk import Stack, chromium

pytestmark = pytest.mark.e2e

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SERVICES = ["auth", "api", "client"]


class Offline:
    """A page whose requests beyond loopback are refused, and which keeps its errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.blocked: list[str] = []
        self.errors: list[str] = []
        page.route("**/*", self._route)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.mark.parametrize("service", SERVICES)
def test_swagger_ui_renders_offline(stack: Stack, service: str) -> None:
    base = getattr(stack, service)
    with chromium() as browser:
        offline = Offline(browser.new_page())
        offline.page.goto(f"{base}/docs")
        expect(offline.page.locator(".opblock").first).to_be_visible()
        assert offline.page.locator(".opblock").count() >= 1
        expect(offline.page.locator(".swagger-ui .info .title")).to_be_visible()
    assert offline.blocked == []
    assert offline.errors == []


def test_the_pages_show_the_favicon(stack: Stack) -> None:
    with chromium() as browser:
        page = browser.new_page()
        for base, path in ((stack.auth, "/login"), (stack.client, "/")):
            page.goto(f"{base}{path}")
            href = page.locator("link[rel=icon]").get_attribute("href")
            assert href == "/favicon.ico"
            response = page.request.get(f"{base}{href}")
            assert response.status == 200
            assert response.headers["content-type"] == "image/svg+xml"
