"""The authorization server's tables on a shared-plumbing engine (see `shared.db`)."""

from sqlalchemy.engine import Engine

from services.authorization_server.models import TABLES
from shared.db import create_tables as _create
from shared.db import make_engine

__all__ = ["create_tables", "make_engine"]


def create_tables(engine: Engine) -> None:
    _create(engine, [str(model.__tablename__) for model in TABLES])
