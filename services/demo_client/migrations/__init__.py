"""Dropletbook's Alembic migrations (run by `shared.migrations`)."""

from sqlalchemy.engine import Connection


def baseline(connection: Connection, tables: set[str]) -> str | None:
    """An unversioned database: a846f3e's `create_all` (0001, `browser_session`), or one
    made since then, before migrations existed (0002, `client_session`)."""
    if "browser_session" in tables:
        return "0001"
    return "0002" if "client_session" in tables else None
