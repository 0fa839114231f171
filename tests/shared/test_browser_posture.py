"""Outside development: `__Host-` Secure cookies; HSTS on every response of an https service.

Each service in-process (tests/harness) with the settings a production deployment
would have, as a browser on https meets it.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager

import httpx
import pytest

from services.demo_client.main import create_app as create_client
from services.demo_client.settings import Settings as ClientSettings
from services.resource_server.main import create_app as create_rs
from services.resource_server.settings import Settings as RSSettings
from tests.demo_client.fakes import AS_INTERNAL, RS_INTERNAL, FakeServers
from tests.factories import PASSWORD, STRONG_KEK, STRONG_SECRET, make_user, test_settings
from tests.harness.authorization_server import AuthorizationServer, serve_in_process
from tests.harness.browser import Browser
from tests.harness.forms import hidden_fields
from tests.harness.servers import browse_in_process

AS_URL = "https://as.example"
CLIENT_URL = "https://dropletbook.example"
RS_URL = "https://api.example"
STRONG = STRONG_SECRET
HSTS = "max-age=31536000"


def as_app(
    database_url: str, *, environment: str = "production", issuer: str = AS_URL
) -> AbstractContextManager[AuthorizationServer]:
    settings = test_settings(
        database_url,
        environment=environment,
        issuer=issuer,
        secret_key=STRONG,
        key_encryption_keys={"k1": STRONG_KEK},
        resource_audience=RS_URL,
        smtp_host="mail.example",
    )
    return serve_in_process(settings)


@pytest.fixture
def auth_server(database_url: str) -> Iterator[AuthorizationServer]:
    with as_app(database_url) as server:
        yield server


def client_app(
    database_url: str, *, public_url: str = CLIENT_URL, environment: str = "production"
) -> AbstractContextManager[Browser]:
    settings = ClientSettings(
        environment=environment,
        database_url=database_url,
        public_url=public_url,
        issuer=AS_URL,
        as_internal_url=AS_INTERNAL,
        rs_url=RS_URL,
        rs_internal_url=RS_INTERNAL,
        client_secret=STRONG,
        trusted_client_secret=STRONG,
        service_client_secret=STRONG,
        session_encryption_key=STRONG,
    )
    app = create_client(settings, http=httpx.Client(transport=FakeServers().transport()))
    return browse_in_process(app, public_url)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name, lower-cased attributes."""
    headers = response.headers.get_list("set-cookie")
    return {header.split("=", 1)[0]: header.lower() for header in headers}


def assert_host_cookie(header: str) -> None:
    """What the `__Host-` prefix requires (RFC 6265bis §4.1.3.2), plus our own flags."""
    attributes = [part.strip() for part in header.split(";")]
    assert "secure" in attributes
    assert "path=/" in attributes
    assert not [a for a in attributes if a.startswith("domain")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_authorization_server_cookies_are_host_prefixed_and_secure(
    auth_server: AuthorizationServer,
) -> None:
    make_user(auth_server.context)
    browser = auth_server.browser()
    page = browser.get("/login")
    assert set(set_cookies(page)) == {"__Host-as_csrf"}
    login = browser.post(
        "/login",
        data=hidden_fields(page.text) | {"email": "alice@example.com", "password": PASSWORD},
    )
    assert login.status_code == 303, login.text
    cookies = set_cookies(page) | set_cookies(login)
    assert set(cookies) == {"__Host-as_csrf", "__Host-as_session", "__Host-as_device"}
    for header in cookies.values():
        assert_host_cookie(header)
    assert browser.get("/").headers["location"] == "/account/applications"
    logout = browser.post("/logout", data=hidden_fields(browser.get("/logout").text))
    assert_host_cookie(set_cookies(logout)["__Host-as_session"])


def test_authorization_server_ignores_unprefixed_cookies_in_production(
    auth_server: AuthorizationServer,
) -> None:
    """A cookie planted without the prefix (a sibling subdomain, plain HTTP) counts for nothing."""
    make_user(auth_server.context)
    browser = auth_server.browser()
    page = browser.get("/login")
    form = hidden_fields(page.text) | {"email": "alice@example.com", "password": PASSWORD}
    browser.post("/login", data=form)
    session = browser.cookies["__Host-as_session"]
    csrf = browser.cookies["__Host-as_csrf"]
    browser.cookies.clear()
    browser.cookies.set("as_session", session)
    assert browser.get("/").headers["location"] == "/login"
    browser.cookies.set("as_csrf", csrf)
    assert browser.post("/login", data=form).status_code == 403


def test_dropletbook_session_cookie_is_host_prefixed_and_secure(database_url: str) -> None:
    with client_app(database_url) as client:
        response = client.get("/password")  # a form page: its CSRF token needs a session
    assert response.status_code == 200
    cookies = set_cookies(response)
    assert set(cookies) == {"__Host-dropletbook_session"}
    assert_host_cookie(cookies["__Host-dropletbook_session"])


def test_every_authorization_server_response_has_hsts(auth_server: AuthorizationServer) -> None:
    responses = [
        auth_server.get("/healthz"),
        auth_server.get("/login"),
        auth_server.get("/.well-known/oauth-authorization-server"),
        auth_server.get("/no-such-page"),
        auth_server.post("/v1/oauth/token", data={"grant_type": "client_credentials"}),
        auth_server.get("/v1/oauth/token"),
    ]
    for response in responses:
        assert response.headers.get("strict-transport-security") == HSTS, response.url


def test_every_resource_server_response_has_hsts(database_url: str) -> None:
    settings = RSSettings(environment="development", database_url=database_url, audience=RS_URL)
    with browse_in_process(create_rs(settings), RS_URL, lifespan=False) as client:  # no JWKS fetch
        responses = [client.get("/healthz"), client.get("/v2/account"), client.get("/nope")]
    for response in responses:
        assert response.headers.get("strict-transport-security") == HSTS, response.url


def test_every_dropletbook_response_has_hsts(database_url: str) -> None:
    with client_app(database_url) as client:
        for path in ("/healthz", "/", "/inspector", "/static/implicit.js", "/nope"):
            assert client.get(path).headers.get("strict-transport-security") == HSTS, path


def test_no_hsts_on_plain_http(database_url: str) -> None:
    """HSTS over http means nothing (RFC 6797 §7.2) and would pin a local demo to https."""
    with as_app(database_url, environment="development", issuer="http://127.0.0.1:8000") as auth:
        assert "strict-transport-security" not in auth.get("/healthz").headers
        assert "strict-transport-security" not in auth.post("/v1/oauth/token").headers
    plain = "http://127.0.0.1:8080"
    with client_app(database_url, public_url=plain, environment="development") as client:
        assert "strict-transport-security" not in client.get("/").headers
