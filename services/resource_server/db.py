"""The resource server's tables on a shared-plumbing engine (see `shared.db`), made and
upgraded by its migrations (see `shared.migrations`)."""

from pathlib import Path

from sqlalchemy.engine import Engine

from services.resource_server import migrations
from services.resource_server.models import TABLE_NAMES
from shared.db import make_engine
from shared.migrations import Schema, upgrade

__all__ = ["SCHEMA", "create_tables", "make_engine"]

SCHEMA = Schema(
    service="resource-server",
    directory=Path(migrations.__file__).parent,
    tables=TABLE_NAMES,
    baseline=migrations.baseline,
)


def create_tables(engine: Engine) -> None:
    """The newest schema: a new database is created, an older one upgraded."""
    upgrade(engine, SCHEMA)
