"""The authorization server's tables on a shared-plumbing engine (see `shared.db`), made
and upgraded by its migrations (see `shared.migrations`)."""

from pathlib import Path

from sqlalchemy.engine import Engine

from services.authorization_server import migrations
from services.authorization_server.models import TABLES
from shared.db import make_engine
from shared.migrations import Schema, prepare, upgrade

__all__ = ["SCHEMA", "create_tables", "make_engine", "prepare"]

SCHEMA = Schema(
    service="authorization-server",
    directory=Path(migrations.__file__).parent,
    tables=tuple(str(model.__tablename__) for model in TABLES),
    baseline=migrations.baseline,
)


def create_tables(engine: Engine) -> None:
    """The newest schema: a new database is created, an older one upgraded."""
    upgrade(engine, SCHEMA)
