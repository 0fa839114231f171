"""A client that sends its request body slowly holds no database connection meanwhile: with
a pool of one, other requests go on (a few slow senders must not starve every database path)."""

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.authorization_server.tokens_over_http import client_credentials
from tests.databases import TestDatabases
from tests.factories import make_client, make_user
from tests.harness.authorization_server import AuthorizationServer, live_authorization_server


@pytest.fixture(scope="module")
def server(databases: TestDatabases, logs_dir: Path) -> Iterator[AuthorizationServer]:
    with live_authorization_server(databases, logs_dir, "slow-bodies", db_pool_size=1) as server:
        yield server


def _start_without_body(
    server: AuthorizationServer, request_line: str, headers: dict[str, str]
) -> socket.socket:
    """A request whose announced body never comes: the server waits for it."""
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port))
    lines = [request_line, f"Host: {url.netloc}", "Content-Length: 100"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _app_token(server: AuthorizationServer) -> str:
    client, secret = make_client(server.context, grant_types=("client_credentials",))
    assert secret is not None
    resource = server.settings.apps_api_resource  # type: ignore[attr-defined]
    response = client_credentials(server, client.client_id, secret, "write", resource)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.mark.parametrize("endpoint", ["logout", "apps-self"])
def test_a_request_waiting_for_its_body_leaves_the_pool_free(
    server: AuthorizationServer, endpoint: str
) -> None:
    user = make_user(server.context, email=f"{endpoint}@example.com")
    browser = server.browser().sign_in(user.email)
    if endpoint == "logout":  # a page that looks up the browser's session first
        cookies = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
        request_line = "POST /v1/oauth/logout HTTP/1.1"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies}
    else:  # an API that authenticates the app first
        request_line = "PATCH /v1/apps/self HTTP/1.1"
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {_app_token(server)}",
        }
    waiting = _start_without_body(server, request_line, headers)
    try:
        time.sleep(0.5)  # it has done its lookups and waits for the body
        # Needs the pool's one connection: were it held, the page would wait out the pool's
        # timeout and fail, so the answer itself is the proof (no clock budget).
        page = browser.get("/account/applications")
        assert page.status_code == 200
    finally:
        waiting.close()
