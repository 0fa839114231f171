"""The harness: its server contexts release their database connections when they end, and
its ports never clash between test workers."""

import asyncio
import gc
from pathlib import Path

import pytest
from sqlalchemy import text

from services.authorization_server.context import ServerContext
from tests.databases import TestDatabases
from tests.factories import test_settings
from tests.harness.authorization_server import live_authorization_server, prepared_database
from tests.harness.servers import free_port


def _query_on_a_loop_of_its_own(context: ServerContext) -> None:
    async def query() -> None:
        async with context.db.connect() as connection:
            await connection.execute(text("SELECT 1"))

    asyncio.run(query())


def test_a_prepared_database_context_leaves_no_connection_behind(
    databases: TestDatabases,
) -> None:
    with prepared_database(test_settings(databases.new_url("as"))) as context:
        _query_on_a_loop_of_its_own(context)
    del context
    gc.collect()  # an unclosed connection is reported (an error here) when it is collected


def test_a_live_servers_context_leaves_no_connection_behind(
    databases: TestDatabases, logs_dir: Path
) -> None:
    with live_authorization_server(databases, logs_dir, "harness") as server:
        _query_on_a_loop_of_its_own(server.context)
    del server
    gc.collect()


def test_free_ports_come_from_the_workers_own_block_below_the_ephemeral_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocks: dict[str, set[int]] = {}
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
    for worker in ("gw0", "gw3"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        blocks[worker] = {free_port() for _ in range(20)}
        assert len(blocks[worker]) == 20  # no port twice in a row
    assert max(blocks["gw0"]) < min(blocks["gw3"])
    assert max(blocks["gw3"]) < 32768  # Linux's first ephemeral port
