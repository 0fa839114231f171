"""Engine and sessions. SQLite by default; a PostgreSQL URL is all replicas need."""

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel, create_engine

from services.resource_server.models import TABLE_NAMES


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):  # psycopg 3, not the psycopg2 default
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if not parsed.drivername.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_tables(engine: Engine) -> None:
    """Only this service's tables: other services' models may share the metadata object."""
    tables = [SQLModel.metadata.tables[name] for name in TABLE_NAMES]
    SQLModel.metadata.create_all(engine, tables=tables)
