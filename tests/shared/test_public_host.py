"""shared/public_host.py: in development a page opened on another loopback name than the
public URL is redirected there (cookies are per host: a flow started on `localhost` and
called back on `127.0.0.1` lost its state cookie)."""

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.public_host import install_public_host_redirect

PUBLIC = "http://127.0.0.1:8080"


def _app(public_url: str = PUBLIC, *, development: bool = True) -> Starlette:
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{request.method} {request.url}")

    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "HEAD", "POST"])])
    install_public_host_redirect(app, public_url, development=development)
    return app


def _request(app: Starlette, method: str, url: str, host: str | None = None) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as client:
            headers = {"Host": host} if host is not None else {}
            return await client.request(method, url, headers=headers)

    return asyncio.run(send())


@pytest.mark.parametrize(
    ("url", "location"),
    [
        pytest.param(
            "http://localhost:8080/callback?code=c&state=s",
            "http://127.0.0.1:8080/callback?code=c&state=s",
            id="localhost",
        ),
        pytest.param("http://[::1]:8080/", "http://127.0.0.1:8080/", id="ipv6-loopback"),
        pytest.param("http://127.0.0.2:8080/x", "http://127.0.0.1:8080/x", id="other-127"),
        pytest.param("http://LOCALHOST:8080/", "http://127.0.0.1:8080/", id="upper-case"),
    ],
)
def test_another_loopback_name_is_sent_to_the_public_url(url: str, location: str) -> None:
    for method in ("GET", "HEAD"):
        response = _request(_app(), method, url)
        assert response.status_code == 307
        assert response.headers["location"] == location


def test_the_public_host_and_back_channel_hosts_pass() -> None:
    app = _app()
    assert _request(app, "GET", "http://127.0.0.1:8080/a").status_code == 200
    # compose's back channel: another container by its service name
    response = _request(app, "GET", "http://authorization-server:8000/x")
    assert response.status_code == 200


def test_forms_and_probes_are_never_redirected() -> None:
    app = _app()
    assert _request(app, "POST", "http://localhost:8080/decision").status_code == 200
    assert _request(app, "GET", "http://localhost:8080/healthz").status_code == 200


@pytest.mark.parametrize(
    "host", [pytest.param("", id="empty"), pytest.param("[::1", id="unclosed-bracket")]
)
def test_a_malformed_host_is_left_to_the_app(host: str) -> None:
    assert _request(_app(), "GET", "http://127.0.0.1:8080/", host=host).status_code == 200


@pytest.mark.parametrize(
    ("public_url", "development"),
    [
        pytest.param(PUBLIC, False, id="production"),
        pytest.param("https://app.example", True, id="public-url-not-on-loopback"),
    ],
)
def test_only_a_development_service_on_loopback_redirects(
    public_url: str, development: bool
) -> None:
    app = _app(public_url, development=development)
    assert _request(app, "GET", "http://localhost:8080/").status_code == 200
