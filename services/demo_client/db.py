"""Engine and table creation for the demo client's database (SQLite or PostgreSQL)."""

from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel, create_engine

from services.demo_client.models import BrowserSession


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):  # psycopg 3, not the psycopg2 default
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if not parsed.drivername.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def create_tables(engine: Engine) -> None:
    """Only this service's table: other services' models may share the metadata in tests."""
    table = BrowserSession.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    SQLModel.metadata.create_all(engine, tables=[table])
