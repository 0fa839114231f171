"""No secret, code or token is ever written to the server's log."""

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.databases import TestDatabases
from tests.factories import as_environment, test_settings
from tests.harness.servers import LiveServer, free_port


@pytest.fixture(scope="module")
def logged_as(databases: TestDatabases, logs_dir) -> Iterator[LiveServer]:
    port = free_port()
    settings = test_settings(databases.new_url("as"), issuer=f"http://127.0.0.1:{port}")
    server = LiveServer(
        "services.authorization_server.main:app",
        as_environment(settings),
        port=port,
        log=logs_dir / "as-access-log.log",
        access_log=True,
    )
    server.start()
    yield server
    server.stop()


def test_secrets_in_query_strings_are_masked_in_the_access_log(logged_as: LiveServer) -> None:
    secret = "query-string-secret-value"
    response = httpx.post(
        f"{logged_as.url}/v1/oauth/token?client_secret={secret}&code={secret}2",
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 400
    httpx.get(f"{logged_as.url}/healthz")  # the access line of the token call is flushed by now
    log = logged_as.log_text()
    assert "/v1/oauth/token?client_secret=" in log
    assert secret not in log


def test_successful_health_checks_stay_out_of_the_access_log(logged_as: LiveServer) -> None:
    """Compose and orchestrators probe every few seconds: no line each time."""
    for _ in range(3):
        assert httpx.get(f"{logged_as.url}/healthz").status_code == 200
    marker = f"/after-health-checks-{uuid.uuid4().hex}"
    assert httpx.get(f"{logged_as.url}{marker}").status_code == 404
    for _ in range(100):  # the marker's line follows the health checks' (had they any)
        if marker in logged_as.log_text():
            break
        time.sleep(0.1)
    log = logged_as.log_text()
    assert f'"GET {marker} HTTP/1.1" 404' in log
    assert "/healthz" not in log


def test_openid_hints_are_masked_in_the_access_log(logged_as: LiveServer) -> None:
    """An ID token (`id_token_hint`) and an email (`login_hint`) are personal data."""
    hint, email = "eyJhbGciOiJFUzI1NiJ9.hint-payload.signature", "ann@example.com"
    httpx.get(
        f"{logged_as.url}/v1/oauth/authorize",
        params={"client_id": "nobody", "id_token_hint": hint, "login_hint": email},
    )
    httpx.get(f"{logged_as.url}/v1/oauth/logout", params={"id_token_hint": hint})
    for _ in range(100):  # the last request's line follows the first's
        if "/v1/oauth/logout?" in logged_as.log_text():
            break
        time.sleep(0.1)
    log = logged_as.log_text()
    assert "/v1/oauth/authorize?" in log
    assert "id_token_hint=" in log
    assert "hint-payload" not in log
    assert email not in log
