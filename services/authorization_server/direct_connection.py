"""The hot token transactions on psycopg's own connection (PostgreSQL).

SQLAlchemy's asyncio layer (greenlet bridge, execution context, result wrapping) cost about
twice the CPU of the work itself on a refresh (bench/README.md, "Stateful paths"). So the
refresh and the code exchange borrow the psycopg `AsyncConnection` underneath a pooled
SQLAlchemy connection and send the same statements (`token_store`'s, compiled once to SQL
text; psycopg prepares them after a few uses). psycopg's pipeline mode was measured too
and was slower: on loopback a round trip costs less than the pipeline's own bookkeeping.

The SQLAlchemy connection keeps the pool's bookkeeping: leaving it returns the connection,
rolling back whatever was not committed (a claim that matched nothing, an error); a broken
connection (a dropped backend) is invalidated, and the pool replaces it. Bind and result
processors are skipped: the hot statements take strings and aware datetimes, and return
strings. SQLite keeps SQLAlchemy's connection (`hot_connection` yields it as it is).
"""

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import psycopg
from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


@functools.cache
def _compiled(statement: Executable, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """The statement's SQL text, and the values it carries itself (`.values(rotated_at=None)`)."""
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    own = {name: bind.value for bind, name in compiled.bind_names.items() if not bind.required}
    return str(compiled), own


class Fetched:
    """A statement's first row, shaped like the part of SQLAlchemy's result we use."""

    __slots__ = ("_row",)

    def __init__(self, row: tuple[Any, ...] | None) -> None:
        self._row = row

    def first(self) -> tuple[Any, ...] | None:
        return self._row


class DirectConnection:
    """The subset of `AsyncConnection` the hot paths use, on psycopg's connection: a
    statement that returns rows gives its first, any other (the inserts) nothing."""

    def __init__(self, dialect: Dialect, driver: psycopg.AsyncConnection[Any]) -> None:
        self.dialect = dialect
        self._driver = driver

    async def execute(self, statement: Executable, params: dict[str, Any]) -> Fetched:
        sql, own = _compiled(statement, self.dialect)
        cursor = await self._driver.execute(sql, {**own, **params} if own else params)
        returns_rows = cursor.description is not None  # a SELECT, or a RETURNING clause
        return Fetched(await cursor.fetchone() if returns_rows else None)

    async def commit(self) -> None:
        await self._driver.commit()


@asynccontextmanager
async def hot_connection(
    db: AsyncEngine, *, autocommit: bool = False
) -> AsyncIterator[AsyncConnection | DirectConnection]:
    """A pooled connection for one hot transaction: psycopg's own on PostgreSQL.

    Nothing is committed unless the caller commits; leaving the block otherwise rolls back.
    `autocommit` (PostgreSQL): each statement commits by itself, for a transaction that is
    one statement. That saves the BEGIN and COMMIT round trips, which on loopback cost more
    CPU than the statement (bench/README.md). SQLite keeps its transaction.
    """
    async with db.connect() as conn:
        if conn.dialect.name != "postgresql":
            yield conn
            return
        raw = await conn.get_raw_connection()
        driver = cast("psycopg.AsyncConnection[Any]", raw.driver_connection)
        if autocommit:
            await driver.set_autocommit(True)
        try:
            yield DirectConnection(conn.dialect, driver)
        except BaseException:
            if driver.broken or driver.closed:
                await conn.invalidate()
            raise
        finally:
            if autocommit and not (driver.broken or driver.closed):
                try:
                    await driver.set_autocommit(False)  # as the pool hands connections out
                except psycopg.Error:  # still busy (cancelled mid-statement): never pool it so
                    await conn.invalidate()
