"""The demo client's one table on a shared-plumbing engine (see `shared.db`)."""

from sqlalchemy.engine import Engine

from services.demo_client.models import BrowserSession
from shared.db import create_tables as _create
from shared.db import make_engine

__all__ = ["create_tables", "make_engine"]


def create_tables(engine: Engine) -> None:
    _create(engine, [str(BrowserSession.__tablename__)])
