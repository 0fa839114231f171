"""What every `dropletbook-as` command starts from: the settings, the database named on
stdout, and the server context on it; a database that does not exist is never created by a
command that only uses one."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from services.authorization_server.context import ServerContext
from services.authorization_server.db import SCHEMA, make_engine, prepare
from services.authorization_server.settings import Settings
from shared.settings import settings_error_message


class CliError(Exception):
    """A one-line message for stderr; the command exits with status 2."""


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise CliError(f"invalid settings: {settings_error_message(exc, Settings)}") from None


def database_name(url: str) -> str:
    """The URL without its password; a SQLite file by its absolute path."""
    parsed = make_url(url)
    path = _sqlite_file(url)
    if path is not None:
        return f"{parsed.drivername}:///{path.resolve()}"
    return parsed.render_as_string(hide_password=True)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    database = parsed.database or ""
    if not parsed.drivername.startswith("sqlite") or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else Path(database)


def _refuse_missing(url: str) -> None:
    """Before an engine exists: making one creates a missing SQLite file."""
    path = _sqlite_file(url)
    if make_url(url).drivername.startswith("sqlite") and (path is None or not path.is_file()):
        raise CliError(
            f"no database at {database_name(url)}: name the right one with --data-dir or "
            "AS_DATABASE_URL, or create it with `dropletbook-as migrate`"
        )


def _refuse_empty(context: ServerContext) -> None:
    """An existing database (a PostgreSQL schema, an empty file) without our tables."""
    found = set(inspect(context.engine).get_table_names()) & set(SCHEMA.tables)
    if not found:
        raise CliError(
            f"{database_name(context.settings.database_url)} has no {SCHEMA.service} tables: "
            "name the right database with --data-dir or AS_DATABASE_URL, or create them "
            "with `dropletbook-as migrate`"
        )


@contextmanager
def server_context(*, create: bool = False) -> Iterator[ServerContext]:
    """The server's context on its database, upgraded in development; a missing database is
    created only if `create`."""
    settings = _settings()
    print(f"database: {database_name(settings.database_url)}", flush=True)
    if not create:
        _refuse_missing(settings.database_url)
    context = ServerContext.build(settings, make_engine(settings.database_url))
    try:
        if not create:
            _refuse_empty(context)
        prepare(context.engine, SCHEMA, development=settings.is_development)
        context.keys.ensure_key()
        yield context
    finally:
        context.engine.dispose()
