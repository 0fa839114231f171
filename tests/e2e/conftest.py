"""The three services as real uvicorn processes on free loopback ports, seeded with the demo."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.authorization_server.demo import FEED_CLIENT_ID, DemoSettings, seed_demo
from tests.databases import TestDatabases
from tests.e2e.production_environment import build_production_environment
from tests.e2e.walk import Stack
from tests.factories import as_environment, test_settings
from tests.harness.authorization_server import prepared_database
from tests.harness.servers import LiveServer, free_port

ACCESS_TOKEN_TTL = 30  # the shortest the server allows: the expiry test waits it out


def start_stack(databases: TestDatabases, logs: Path, name: str) -> tuple[Stack, list[LiveServer]]:
    as_port, rs_port, client_port = free_port(), free_port(), free_port()
    as_url, rs_url, client_url = (
        f"http://127.0.0.1:{port}" for port in (as_port, rs_port, client_port)
    )
    settings = test_settings(
        databases.new_url("as"),
        issuer=as_url,
        resource_audience=rs_url,
        revocation_feed_clients=[FEED_CLIENT_ID],
        access_token_ttl=ACCESS_TOKEN_TTL,
    )
    demo = DemoSettings(client_url=client_url)
    with prepared_database(settings) as context:
        seed_demo(context, demo)
    rs_env = {
        "RS_ENVIRONMENT": "development",
        "RS_ISSUER": as_url,
        "RS_AUDIENCE": rs_url,
        "RS_DATABASE_URL": databases.new_url("rs"),
        "RS_FEED_CLIENT_ID": FEED_CLIENT_ID,
        "RS_FEED_CLIENT_SECRET": demo.feed_client_secret.get_secret_value(),
        "RS_REVOCATION_POLL_INTERVAL": "1",
        "RS_LEEWAY": "0",
    }
    client_database = databases.new_url("client")
    client_env = {
        "CLIENT_ENVIRONMENT": "development",
        "CLIENT_PUBLIC_URL": client_url,
        "CLIENT_ISSUER": as_url,
        "CLIENT_RS_URL": rs_url,
        "CLIENT_DATABASE_URL": client_database,
    }
    servers = [
        LiveServer("services.authorization_server.main:app", as_environment(settings),
                   port=as_port, log=logs / f"{name}-as.log"),
        LiveServer("services.resource_server.main:app", rs_env,
                   port=rs_port, log=logs / f"{name}-rs.log"),
        LiveServer("services.demo_client.main:app", client_env,
                   port=client_port, log=logs / f"{name}-client.log"),
    ]  # fmt: skip
    try:
        for server in servers:
            server.start()
    except Exception:
        for server in servers:
            server.stop()
        raise
    stack = Stack(client=client_url, auth=as_url, api=rs_url, client_database=client_database)
    return stack, servers


@pytest.fixture(scope="module")
def stack(databases: TestDatabases, logs_dir: Path) -> Iterator[Stack]:
    """Authorization server, resource server and Dropletbook, one set per test module."""
    urls, servers = start_stack(databases, logs_dir, "e2e")
    yield urls
    for server in reversed(servers):
        server.stop()


@pytest.fixture(scope="session")
def production_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`bin/` of the production dependency set (tests/e2e/production_environment.py)."""
    return build_production_environment(tmp_path_factory.mktemp("production") / "venv")
