"""`dropletbook-migrate [SERVICE ...]`: upgrade each service's database to the newest schema.

Each database is the one the service itself uses: `AS_DATABASE_URL`, `RS_DATABASE_URL`,
`CLIENT_DATABASE_URL` (else the service's default under `./data`). Nothing else is read, so
it runs before the services' secrets are in place. An empty database is created; one made
before migrations existed is recognised and upgraded, its data kept. Back up first.
Every error is one line on stderr and exit status 2.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from services.authorization_server import db as authorization_server_db
from services.authorization_server.settings import Settings as AuthorizationServerSettings
from services.demo_client import db as demo_client_db
from services.demo_client.settings import Settings as DemoClientSettings
from services.resource_server import db as resource_server_db
from services.resource_server.settings import Settings as ResourceServerSettings
from shared.db import make_engine
from shared.migrations import MIGRATE_COMMAND, Schema, SchemaError, upgrade
from shared.settings import BaseServiceSettings

USAGE_ERROR = 2

SERVICES: dict[str, tuple[Schema, type[BaseServiceSettings]]] = {
    schema.service: (schema, settings)
    for schema, settings in (
        (authorization_server_db.SCHEMA, AuthorizationServerSettings),
        (resource_server_db.SCHEMA, ResourceServerSettings),
        (demo_client_db.SCHEMA, DemoClientSettings),
    )
}


def database_url(service: str) -> str:
    """The service's `*_DATABASE_URL`, else its default."""
    settings = SERVICES[service][1]
    default: str = settings.model_fields["database_url"].default
    return os.environ.get(settings.env_name("database_url"), default)


def migrate(service: str) -> str:
    """Upgrade one service's database; what was done, in one line."""
    schema = SERVICES[service][0]
    url = database_url(service)
    engine = make_engine(url)
    try:
        before = upgrade(engine, schema)
    finally:
        engine.dispose()
    where = make_url(url).render_as_string(hide_password=True)
    if before is None:
        done = f"created at {schema.head}"
    elif before == schema.head:
        done = f"already at {schema.head}"
    else:
        done = f"upgraded from {before} to {schema.head}"
    return f"{service}: {where} {done}"


def run(services: Sequence[str], prog: str = MIGRATE_COMMAND) -> None:
    """Migrate each in turn; on an error, one line on stderr and exit status 2."""
    for service in services:
        try:
            print(migrate(service), flush=True)
        except SchemaError as exc:
            _fail(prog, str(exc))
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"]
            _fail(prog, f"{service}: database error: {detail[0]}")


def _fail(prog: str, message: str) -> NoReturn:
    print(f"{prog}: error: {message}", file=sys.stderr)
    sys.exit(USAGE_ERROR)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog=MIGRATE_COMMAND, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "services",
        nargs="*",
        metavar="SERVICE",
        help=f"which databases: {', '.join(SERVICES)} (default: all three)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.services if name not in SERVICES]
    if unknown:
        _fail(MIGRATE_COMMAND, f"unknown service {unknown[0]!r}: choose from {', '.join(SERVICES)}")
    run(args.services or list(SERVICES))


if __name__ == "__main__":
    main(sys.argv[1:])
