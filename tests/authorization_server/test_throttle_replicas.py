"""Two authorization server processes (real uvicorn) sharing one Redis share one budget."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.db import make_engine
from tests.authorization_server.test_throttle import throttled_settings
from tests.authorization_server.throttle_stores import REDIS_URL, assert_retry_after
from tests.databases import TestDatabases
from tests.factories import PASSWORD, as_environment, make_client, make_user
from tests.harness.forms import hidden_fields
from tests.harness.servers import LiveServer


@pytest.fixture(scope="module")
def replicas(
    databases: TestDatabases, logs_dir: Path
) -> Iterator[tuple[LiveServer, LiveServer, ServerContext]]:
    settings = throttled_settings(databases.new_url("replicas"), REDIS_URL)
    env = as_environment(settings)
    app = "services.authorization_server.main:app"
    servers = [LiveServer(app, env, log=logs_dir / f"as-replica-{n}.log") for n in "ab"]
    for server in servers:
        server.start()
    context = ServerContext.build(settings, make_engine(settings.database_url))
    yield servers[0], servers[1], context
    context.engine.dispose()
    for server in servers:
        server.stop()


def _login(url: str, email: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=10) as http:
        page = http.get("/login")
        form = hidden_fields(page.text) | {"email": email, "password": password}
        return http.post("/login", data=form)


def test_failures_on_either_replica_lock_the_account_on_both(
    replicas: tuple[LiveServer, LiveServer, ServerContext],
) -> None:
    a, b, context = replicas
    user = make_user(context, email="shared@example.com")
    for n, server in enumerate((a, b, a)):
        assert _login(server.url, user.email, f"wrong password {n}").status_code == 400
    locking = time.monotonic()
    locked = _login(b.url, user.email, "wrong password 3")
    assert locked.status_code == 429
    assert_retry_after(locked.headers["retry-after"], limit=60, since=locking)
    assert _login(a.url, user.email, PASSWORD).status_code == 429
    assert _login(b.url, user.email, PASSWORD).status_code == 429


def test_client_secret_failures_count_once_across_replicas(
    replicas: tuple[LiveServer, LiveServer, ServerContext],
) -> None:
    a, b, context = replicas
    client, secret = make_client(context, grant_types=("client_credentials",), redirect_uris=())
    assert secret

    def token(server: LiveServer, secret: str = "wrong secret") -> httpx.Response:
        return httpx.post(
            f"{server.url}/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, secret),
        )

    assert [token(s).status_code for s in (a, b, a)] == [401, 401, 401]
    assert token(b).status_code == 429
    assert token(a).status_code == 429  # one budget: a's fifth failure is over it too
    assert token(a, secret).status_code == token(b, secret).status_code == 200
