"""The resource server's tables on a shared-plumbing engine (see `shared.db`)."""

from sqlalchemy.engine import Engine

from services.resource_server.models import TABLE_NAMES
from shared.db import create_tables as _create
from shared.db import make_engine

__all__ = ["create_tables", "make_engine"]


def create_tables(engine: Engine) -> None:
    _create(engine, TABLE_NAMES)
