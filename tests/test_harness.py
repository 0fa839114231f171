"""The harness's own server contexts release their database connections when they end."""

import asyncio
import gc
from pathlib import Path

from sqlalchemy import text

from services.authorization_server.context import ServerContext
from tests.databases import TestDatabases
from tests.factories import test_settings
from tests.harness.authorization_server import live_authorization_server, prepared_database


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
