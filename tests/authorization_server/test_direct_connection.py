"""`direct_connection.hot_connection`: what is not committed is rolled back, and the pooled
connection comes back usable, also after its backend was killed mid-transaction (PostgreSQL)."""

import asyncio

import psycopg
import pytest
from sqlalchemy import bindparam, column, func, insert, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.authorization_server.direct_connection import DirectConnection, hot_connection
from shared.db import make_async_engine, make_engine
from tests.databases import TestDatabases

_PROBE = table("probe", column("n"))
_ADD = insert(_PROBE).values(n=bindparam("n"))
_COUNT = select(func.count()).select_from(_PROBE)
_SLEEPING = "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep%'"


def _engine(url: str) -> AsyncEngine:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n integer)"))
    engine.dispose()
    return make_async_engine(url, pool_size=1)  # one connection: every block reuses it


async def _stored(db: AsyncEngine) -> list[int]:
    async with db.connect() as conn:
        return [n for (n,) in await conn.execute(select(_PROBE.c.n).order_by(_PROBE.c.n))]


def test_uncommitted_work_rolls_back_and_commits_are_kept(
    database_url: str, databases: TestDatabases
) -> None:
    async def scenario() -> None:
        db = _engine(database_url)
        async with hot_connection(db) as conn:
            assert isinstance(conn, DirectConnection) == databases.is_postgres
            await conn.execute(_ADD, {"n": 1})  # left without a commit
        async with hot_connection(db) as conn:
            await conn.execute(_ADD, {"n": 2})
            row = (await conn.execute(_COUNT, {})).first()
            assert row is not None and row[0] == 1  # its own insert, not the rolled-back one
            await conn.commit()
        assert await _stored(db) == [2]
        await db.dispose()

    asyncio.run(scenario())


def test_a_killed_backend_fails_its_transaction_and_the_pool_replaces_it(
    database_url: str, databases: TestDatabases
) -> None:
    if not databases.is_postgres:
        pytest.skip("terminates a PostgreSQL backend (pg_terminate_backend)")

    async def scenario() -> None:
        db = _engine(database_url)
        with pytest.raises(psycopg.OperationalError):
            async with hot_connection(db) as conn:
                row = (await conn.execute(select(func.pg_backend_pid()), {})).first()
                assert row is not None
                with psycopg.connect(databases.target, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                await conn.execute(_ADD, {"n": 1})
                await conn.commit()
        async with hot_connection(db) as conn:
            await conn.execute(_ADD, {"n": 2})
            await conn.commit()
        assert await _stored(db) == [2]
        await db.dispose()

    asyncio.run(scenario())


def test_an_autocommit_block_commits_each_statement_and_the_pool_gets_a_transactional_connection(
    database_url: str,
) -> None:
    async def scenario() -> None:
        db = _engine(database_url)
        async with hot_connection(db, autocommit=True) as conn:
            await conn.execute(_ADD, {"n": 1})  # committed by itself on PostgreSQL
        async with hot_connection(db) as conn:  # the same pooled connection
            await conn.execute(_ADD, {"n": 2})  # left without a commit: rolled back
        expected = [1] if conn.dialect.name == "postgresql" else []  # SQLite: one transaction
        assert await _stored(db) == expected
        await db.dispose()

    asyncio.run(scenario())


def test_a_request_cancelled_mid_statement_never_leaves_autocommit_in_the_pool(
    database_url: str, databases: TestDatabases
) -> None:
    """The client goes away while an autocommitted statement runs: the connection must not
    go back to the pool in autocommit mode, where a later transaction would commit piecemeal."""
    if not databases.is_postgres:
        pytest.skip("autocommit is PostgreSQL's hot path; SQLite keeps its transaction")

    async def scenario() -> None:
        db = _engine(database_url)

        async def slow() -> None:
            async with hot_connection(db, autocommit=True) as conn:
                await conn.execute(select(func.pg_sleep(5)), {})

        task = asyncio.create_task(slow())
        with psycopg.connect(databases.target, autocommit=True) as admin:
            for _ in range(500):  # until the statement runs (10 s at most)
                if admin.execute(_SLEEPING).fetchone():
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the statement never started")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with hot_connection(db) as conn:  # the pool's one connection, or its successor
            await conn.execute(_ADD, {"n": 1})  # left without a commit: must roll back
        assert await _stored(db) == []
        await db.dispose()

    asyncio.run(scenario())


def test_a_statement_with_returning_gives_its_row(database_url: str) -> None:
    """Not only a SELECT: an INSERT … RETURNING (as a claim's UPDATE … RETURNING) too."""

    async def scenario() -> None:
        db = _engine(database_url)
        async with hot_connection(db) as conn:
            row = (await conn.execute(_ADD.returning(_PROBE.c.n), {"n": 7})).first()
            assert row is not None and row[0] == 7
            if isinstance(conn, DirectConnection):  # and a statement without rows gives none
                assert (await conn.execute(_ADD, {"n": 8})).first() is None
        await db.dispose()

    asyncio.run(scenario())
