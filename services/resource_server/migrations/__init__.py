"""The resource server's Alembic migrations (run by `shared.migrations`)."""

from sqlalchemy import text
from sqlalchemy.engine import Connection


def baseline(connection: Connection, tables: set[str]) -> str | None:
    """An unversioned database: a846f3e's `create_all` (0001), or one made since then,
    before migrations existed, whose SQLite droplet ids already never repeat (0002)."""
    if "account" not in tables:
        return None
    if connection.dialect.name != "sqlite":
        return "0002"  # 0002 changes nothing on PostgreSQL: both schemas are the same
    sql = connection.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'droplet'")
    ).scalar()
    return "0002" if sql and "AUTOINCREMENT" in sql.upper() else "0001"
