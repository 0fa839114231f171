"""The authorization server's Alembic migrations (run by `shared.migrations`)."""

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

BASELINE_TABLES = {"user", "client", "signingkeyrecord"}


def baseline(connection: Connection, tables: set[str]) -> str | None:
    """An unversioned database: a846f3e's `create_all` (0001), or one made since then,
    before migrations existed, which already has the sign-up table (0002), or one a
    `create_all` of models with OpenID Connect made (0004)."""
    if not tables & BASELINE_TABLES:
        return None
    if "pendingsignup" not in tables:
        return "0001"
    session_columns = {column["name"] for column in inspect(connection).get_columns("usersession")}
    return "0004" if "sid" in session_columns else "0002"
