"""Each service's schema under Alembic, driven from code: no alembic.ini at run time.

A service keeps its migrations in `services/<name>/migrations/versions/` and its own version
table (`alembic_version_<name>`), so the three services could even share one database.
`upgrade` brings a database to the newest revision:

- empty (none of the service's tables): `create_all`, then stamped at the head. Fast, for the
  hundreds of databases the tests make; `tests/shared/test_migrations.py` checks that the
  migrations build exactly the models' schema, so both ways give the same tables;
- tables but no version table (made by `create_all` before migrations existed): the service's
  `baseline` says which revision it holds; it is stamped there, then upgraded;
- versioned: `alembic upgrade head`.

`prepare` is what start-up (`start_up`) and the commands run: development upgrades;
production creates an empty database but refuses an older or unknown schema, naming the
command that upgrades it.
"""

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

logger = logging.getLogger(__name__)
# Alembic says "Context impl SQLiteImpl." at every start; `upgrade` logs what it does itself.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)

MIGRATE_COMMAND = "dropletbook-migrate"

Baseline = Callable[[Connection, set[str]], str | None]
"""The revision an unversioned database holds, given its table names; None: none of ours."""


class SchemaError(Exception):
    """The database's schema is not the one this version runs on; the message says what to do."""


@dataclass(frozen=True)
class Schema:
    """One service's tables and the Alembic scripts that build them."""

    service: str
    """The name `dropletbook-migrate` takes: authorization-server, resource-server, demo-client."""
    directory: Path
    """The Alembic script directory (env.py, versions/)."""
    tables: tuple[str, ...]
    baseline: Baseline

    @property
    def version_table(self) -> str:
        return "alembic_version_" + self.service.replace("-", "_")

    @property
    def head(self) -> str:
        head = _scripts(self.directory).get_current_head()
        assert head is not None
        return head

    def config(self, connection: Connection) -> Config:
        """The Alembic configuration on an open connection (see `run_environment`)."""
        config = Config()
        config.set_main_option("script_location", str(self.directory).replace("%", "%%"))
        config.attributes.update(schema=self, connection=connection)
        return config

    def include_name(self, name: str | None, type_: str, _: Any) -> bool:
        """Only this service's tables: the metadata and the database may hold others."""
        return type_ != "table" or name in self.tables

    def include_object(self, obj: Any, name: str | None, type_: str, *_: Any) -> bool:
        return type_ != "table" or name in self.tables


@cache
def _scripts(directory: Path) -> ScriptDirectory:
    return ScriptDirectory(str(directory))


def upgrade(engine: Engine, schema: Schema) -> str | None:
    """Bring the database to the newest revision (see the module docstring); the revision
    it had (None: it was empty)."""
    with engine.begin() as connection:
        return _to_head(connection, schema, migrate=True)


def prepare(engine: Engine, schema: Schema, *, development: bool) -> None:
    """Upgrade in development; in production create an empty database, and refuse any other
    schema than the newest (upgrading is the operator's step, after a backup)."""
    with engine.begin() as connection:
        _to_head(connection, schema, migrate=development)


def _to_head(connection: Connection, schema: Schema, *, migrate: bool) -> str | None:
    current = _current(connection, schema)
    if current is None:
        _create(connection, schema)
    elif current != schema.head:
        _known(current, schema)
        if not migrate:
            raise SchemaError(
                f"the {schema.service} database has schema revision {current}, this version "
                f"needs {schema.head}: back it up, then run `{MIGRATE_COMMAND} {schema.service}`"
            )
        logger.info("upgrading the %s database: %s to %s", schema.service, current, schema.head)
        command.upgrade(schema.config(connection), "head")
    return current


def start_up(engine: Engine, schema: Schema, *, development: bool) -> None:
    """`prepare`, for a server's lifespan: a refusal is logged first, as one clear line above
    the traceback the server prints for a failed start-up."""
    try:
        prepare(engine, schema, development=development)
    except SchemaError as exc:
        logger.error("%s", exc)
        raise


def differences(connection: Connection, schema: Schema) -> list[Any]:
    """What autogenerate finds between the database and the models (empty: they agree)."""
    context = MigrationContext.configure(connection, opts=_options(connection, schema))
    found: list[Any] = compare_metadata(context, SQLModel.metadata)
    return found


def run_environment(schema: Schema) -> None:
    """The body of each service's env.py: migrate on the connection `Schema.config` carries."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise SchemaError(f"run migrations with `{MIGRATE_COMMAND}`, not the alembic command")
    context.configure(connection=connection, **_options(connection, schema))
    with context.begin_transaction():
        context.run_migrations()


def _options(connection: Connection, schema: Schema) -> dict[str, Any]:
    return {
        "target_metadata": SQLModel.metadata,
        "version_table": schema.version_table,
        "include_name": schema.include_name,
        "include_object": schema.include_object,
        "render_as_batch": connection.dialect.name == "sqlite",  # SQLite alters by copying
        "compare_type": True,
    }


def _current(connection: Connection, schema: Schema) -> str | None:
    """The database's revision, stamping an unversioned one; None: empty (for this service).

    On PostgreSQL, replicas starting together take turns (a transaction-scoped lock)."""
    if connection.dialect.name == "postgresql":
        key = zlib.crc32(schema.version_table.encode())
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    context = _context(connection, schema)
    current = context.get_current_revision()
    if current is not None:
        return current
    baseline = schema.baseline(connection, set(inspect(connection).get_table_names()))
    if baseline is not None:
        logger.info("%s database made before migrations: at revision %s", schema.service, baseline)
        context.stamp(_scripts(schema.directory), baseline)
    return baseline


def _create(connection: Connection, schema: Schema) -> None:
    tables = [SQLModel.metadata.tables[name] for name in schema.tables]
    SQLModel.metadata.create_all(connection, tables=tables)
    _context(connection, schema).stamp(_scripts(schema.directory), "head")


def _context(connection: Connection, schema: Schema) -> MigrationContext:
    return MigrationContext.configure(connection, opts={"version_table": schema.version_table})


def _known(revision: str, schema: Schema) -> None:
    if revision not in {script.revision for script in _scripts(schema.directory).walk_revisions()}:
        raise SchemaError(
            f"the {schema.service} database has schema revision {revision}, unknown to this "
            "version (made by a newer one?): run the version that made it, or restore a backup"
        )
