"""The authorization server's Alembic migrations (run by `shared.migrations`)."""

from sqlalchemy.engine import Connection

BASELINE_TABLES = {"user", "client", "signingkeyrecord"}


def baseline(connection: Connection, tables: set[str]) -> str | None:
    """An unversioned database: a846f3e's `create_all` (0001), or one made since then,
    before migrations existed, which already has the sign-up table (0002)."""
    if not tables & BASELINE_TABLES:
        return None
    return "0002" if "pendingsignup" in tables else "0001"
