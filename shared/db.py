"""Database plumbing every service shares: engines and aware UTC datetimes.

SQLite by default; a PostgreSQL URL (psycopg 3) is all it takes to run replicas on one
shared database. `make_async_engine` serves the request paths on the event loop (psycopg's
async driver, aiosqlite); `make_engine` the CLI, migrations and start-up. Tables are made
and upgraded by migrations (`shared.migrations`). SQLite
files (and their -wal/-shm) are readable by their owner only: they hold password hashes,
token digests and signing keys.
"""

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import create_engine

logger = logging.getLogger(__name__)
OWNER_ONLY = 0o600
OWNER_ONLY_DIRECTORY = 0o700


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the zone on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """`pooled=False`: a connection per use, closed after it, for a process whose requests
    run on `make_async_engine`'s pool and that uses this one only now and then (start-up,
    maintenance), so that it keeps one pool."""
    parsed = make_url(url)
    path = _sqlite_file(parsed.database) if parsed.drivername.startswith("sqlite") else None
    pool: dict[str, Any] = {"poolclass": NullPool}
    if not parsed.drivername.startswith("sqlite"):
        if pooled:
            pool = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
        return create_engine(_psycopg(parsed), **pool)
    if pooled or path is None:  # in memory: the pool's one connection is the database
        pool = {}
    connect_args = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(_sqlite_url(parsed), connect_args=connect_args, **pool)
    _on_sqlite_connect(engine, path)
    return engine


def make_async_engine(url: str, *, pool_size: int) -> AsyncEngine:
    """The engine of the request paths: one per process, `pool_size` connections (0: none
    kept, a new connection per transaction, for an external pooler such as PgBouncer)."""
    parsed = make_url(url)
    pool: dict[str, Any] = (
        {"poolclass": NullPool} if pool_size == 0 else {"pool_size": pool_size, "max_overflow": 0}
    )
    if not parsed.drivername.startswith("sqlite"):
        # No pre-ping: it costs a round trip per request. A dropped connection fails its one
        # request (server_error, nothing committed) and the pool replaces it.
        return create_async_engine(_psycopg(parsed), **pool)
    sqlite_url = _sqlite_url(parsed).set(drivername="sqlite+aiosqlite")
    path = _sqlite_file(parsed.database)
    if path is None:  # in memory: one connection (SQLAlchemy's StaticPool) is the database
        pool = {}
    engine = create_async_engine(sqlite_url, connect_args={"timeout": 30}, **pool)
    _on_sqlite_connect(engine.sync_engine, path)
    return engine


def _psycopg(parsed: URL) -> URL:
    """psycopg 3 (sync and async), not SQLAlchemy's psycopg2 default."""
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_url(parsed: URL) -> URL:
    """The URL, its file created first readable by its owner only (SQLite would make it 0644)."""
    path = _sqlite_file(parsed.database)
    if path is not None:
        path.parent.mkdir(mode=OWNER_ONLY_DIRECTORY, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, OWNER_ONLY))
    return parsed


def _on_sqlite_connect(engine: Engine, path: Path | None) -> None:
    def on_connect(connection: Any, _: Any) -> None:
        _sqlite_pragmas(connection)
        if path is not None:  # SQLite gives -wal/-shm the file's mode; older files may differ
            for suffix in ("", "-wal", "-shm"):
                _owner_only(path.with_name(path.name + suffix))

    event.listen(engine, "connect", on_connect)


def _sqlite_file(database: str | None) -> Path | None:
    """The file behind a SQLite URL; None for in-memory and `file:` URI databases."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def private_directory(path: Path) -> None:
    """`path` created, or an existing one narrowed, readable by its owner only (0700): a
    data folder of SQLite files (`dropletbook-demo --data-dir`)."""
    path.mkdir(mode=OWNER_ONLY_DIRECTORY, parents=True, exist_ok=True)
    _owner_only(path, OWNER_ONLY_DIRECTORY)


def _owner_only(path: Path, mode: int = OWNER_ONLY) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except FileNotFoundError:
        pass
    except PermissionError:  # someone else's file: say so, keep running
        logger.warning("cannot make %s readable by its owner only", path)


def _sqlite_pragmas(connection: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
