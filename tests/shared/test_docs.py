"""`/docs` and `/favicon.ico` of the three services, served without a CDN.

Each page may reference only same-origin URLs, and each of them must answer 200 with the
right content type; the pages' favicon link points at the served icon.
"""

import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI

from services.authorization_server.main import create_app as create_as
from services.demo_client.main import create_app as create_client
from services.demo_client.settings import Settings as ClientSettings
from services.resource_server.main import create_app as create_rs
from tests.demo_client.conftest import PUBLIC_URL
from tests.factories import test_settings
from tests.harness.browser import Browser
from tests.harness.servers import InProcessApp
from tests.resource_server.conftest import rs_settings

CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".json": "application/json",
    ".ico": "image/svg+xml",
}


def _demo_client(database_url: str) -> FastAPI:
    settings = ClientSettings(
        environment="development",
        database_url=database_url,
        public_url="http://testserver",
        issuer="http://127.0.0.1:8000",
    )
    return create_client(settings)


SERVICES: dict[str, Callable[[str], FastAPI]] = {
    "authorization_server": lambda url: create_as(test_settings(url)),
    "resource_server": lambda url: create_rs(rs_settings(url)),
    "demo_client": _demo_client,
}


class _Links(HTMLParser):
    """Every URL a page makes the browser load: src, href, data-openapi-url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href", "data-openapi-url"} and value:
                self.urls.append(value)


def page_urls(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


@pytest.fixture(params=list(SERVICES))
def client(request: pytest.FixtureRequest, database_url: str) -> Iterator[Browser]:
    """The service in-process, its lifespan running."""
    app = SERVICES[request.param](database_url)
    with InProcessApp(app) as running:
        browser = running.browser(PUBLIC_URL)
        yield browser
        browser.close()


def test_docs_load_only_same_origin_assets(client: Browser) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: the policy above holds
    urls = page_urls(page.text)
    assert len(urls) >= 3, urls
    for url in urls:
        assert re.fullmatch(r"/[^/].*", url), f"{url} is not same-origin"
        response = client.get(url)
        assert response.status_code == 200, url
        suffix = re.search(r"\.\w+$", url)
        assert suffix and suffix.group() in CONTENT_TYPES, url
        assert response.headers["content-type"].startswith(CONTENT_TYPES[suffix.group()]), url
        assert response.content, url


def test_redoc_is_not_offered(client: Browser) -> None:
    """FastAPI's ReDoc page loads its script from a CDN."""
    assert client.get("/redoc").status_code == 404


def test_swagger_ui_is_version_5(client: Browser) -> None:
    """FastAPI documents OpenAPI 3.1, which Swagger UI renders from version 5 on."""
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert version and int(version.group(1)) >= 5


def test_favicon(client: Browser) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")


@pytest.mark.parametrize(
    ("service", "path"),
    [
        pytest.param("authorization_server", "/login", id="as-login"),
        pytest.param("authorization_server", "/signup", id="as-signup"),
        pytest.param("demo_client", "/", id="client-home"),
        pytest.param("demo_client", "/inspector", id="client-inspector"),
    ],
)
def test_pages_link_the_favicon(database_url: str, service: str, path: str) -> None:
    app = SERVICES[service](database_url)
    with InProcessApp(app) as running:
        client = running.browser(PUBLIC_URL)
        page = client.get(path)
        client.close()
    assert page.status_code == 200
    assert '<link rel="icon" href="/favicon.ico" type="image/svg+xml">' in page.text
