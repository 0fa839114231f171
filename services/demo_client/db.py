"""The demo client's one table on a shared-plumbing engine (see `shared.db`), made and
upgraded by its migrations (see `shared.migrations`)."""

from pathlib import Path

from sqlalchemy.engine import Engine

from services.demo_client import migrations
from services.demo_client.models import SessionRow
from shared.db import make_engine
from shared.migrations import Schema, upgrade

__all__ = ["SCHEMA", "create_tables", "make_engine"]

SCHEMA = Schema(
    service="demo-client",
    directory=Path(migrations.__file__).parent,
    tables=(str(SessionRow.__tablename__),),
    baseline=migrations.baseline,
)


def create_tables(engine: Engine) -> None:
    """The newest schema: a new database is created, an older one upgraded."""
    upgrade(engine, SCHEMA)
