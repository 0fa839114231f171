"""`dropletbook-migrate` and `dropletbook-as migrate` as an operator runs them: each database
from its service's `*_DATABASE_URL`, no other setting needed, errors in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services import migrate
from services.authorization_server import cli
from services.migrate import SERVICES
from shared.db import make_engine
from shared.migrations import differences
from tests import legacy_databases as legacy
from tests.authorization_server.test_cli import production
from tests.command_line import run_main
from tests.databases import TestDatabases
from tests.harness.servers import ROOT

BIN = Path(sys.executable).parent
PREFIXES = {"authorization-server": "AS_", "resource-server": "RS_", "demo-client": "CLIENT_"}
# The newest migration of each service, where `dropletbook-migrate` leaves its database.
HEADS = {"authorization-server": "0005", "resource-server": "0002", "demo-client": "0002"}
MAINS = {"dropletbook-migrate": migrate.main, "dropletbook-as": cli.main}


def environment(urls: dict[str, str]) -> dict[str, str]:
    """Production (no `*_ENVIRONMENT`), no secrets: only the database URLs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(PREFIXES.values()))}
    return env | {f"{PREFIXES[service]}DATABASE_URL": url for service, url in urls.items()}


def run(command: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`COMMAND ARGS` run in this process: what the command does."""
    return run_main(MAINS[command], list(args), env=env)


def run_process(command: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed `COMMAND ARGS` as its own process: that the entry point works."""
    return subprocess.run(
        [str(BIN / command), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def a846f3e_urls(databases: TestDatabases) -> dict[str, str]:
    """The three services' databases as release a846f3e left them, with data."""
    urls = {}
    for service, package in zip(PREFIXES, legacy.SERVICES, strict=True):
        urls[service] = databases.new_url(package)
        engine = make_engine(urls[service])
        try:
            legacy.create_schema(engine, package)
            getattr(legacy, f"seed_{package}")(engine)
        finally:
            engine.dispose()
    return urls


def assert_at_head(url: str, service: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert differences(connection, SERVICES[service][0]) == []
    finally:
        engine.dispose()


def test_migrate_upgrades_every_service(a846f3e_urls: dict[str, str]) -> None:
    env = environment(a846f3e_urls)
    first = run("dropletbook-migrate", env=env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == list(PREFIXES)
    for line in lines:  # the resource server's PostgreSQL schema did not change
        head = HEADS[line.split(":")[0]]
        assert line.endswith((f"upgraded from 0001 to {head}", f"already at {head}")), line
    for service, url in a846f3e_urls.items():
        assert_at_head(url, service)

    again = run("dropletbook-migrate", env=env)
    assert again.returncode == 0, again.stderr
    for line in again.stdout.splitlines():
        assert line.endswith(f"already at {HEADS[line.split(':')[0]]}"), line


def test_migrate_one_service_and_an_empty_database(databases: TestDatabases) -> None:
    url = databases.new_url("rs")
    done = run_process(
        "dropletbook-migrate", "resource-server", env=environment({"resource-server": url})
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("created at 0002")
    assert_at_head(url, "resource-server")


def test_dropletbook_as_migrate(a846f3e_urls: dict[str, str]) -> None:
    url = a846f3e_urls["authorization-server"]
    done = run("dropletbook-as", "migrate", env=environment({"authorization-server": url}))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("authorization-server: ")
    assert done.stdout.strip().endswith(f"upgraded from 0001 to {HEADS['authorization-server']}")
    assert_at_head(url, "authorization-server")


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        pytest.param(
            "dropletbook-migrate", ("nothing",), "unknown service 'nothing'", id="unknown-service"
        ),
        pytest.param(
            "dropletbook-migrate",
            ("authorization-server",),
            "authorization-server: database error: ",
            id="unreachable",
        ),
        pytest.param(
            "dropletbook-as", ("migrate",), "authorization-server: database error: ", id="as"
        ),
    ],
)
def test_errors_are_one_line(command: str, args: tuple[str, ...], message: str) -> None:
    unreachable = "postgresql://nobody:secret-password@127.0.0.1:1/none"
    done = run(command, *args, env=environment({"authorization-server": unreachable}))
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "secret-password" not in done.stderr + done.stdout


def test_other_commands_in_production_refuse_an_old_schema(a846f3e_urls: dict[str, str]) -> None:
    """`dropletbook-as create-user` (like the server) does not upgrade in production."""
    url = a846f3e_urls["authorization-server"]
    command = ["create-user", "--email", "x@example.com", "--password-stdin"]
    done = run_main(cli.main, command, env=production(url), stdin="a long enough password\n")
    assert done.returncode == 2
    assert "schema revision 0001" in done.stderr
    assert "run `dropletbook-migrate authorization-server`" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
