"""The demo client's one table on a shared-plumbing engine (see `shared.db`)."""

from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.demo_client.models import SessionRow
from shared.db import create_tables as _create
from shared.db import make_engine

__all__ = ["create_tables", "make_engine"]

LEGACY_TABLE = "browser_session"
"""The session table of earlier versions, which held tokens in clear: dropped at start-up."""


def create_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {LEGACY_TABLE}"))
    _create(engine, [str(SessionRow.__tablename__)])
