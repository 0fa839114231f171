"""`dropletbook-as`: seed the demo, create users, rotate signing keys and key encryption keys,
upgrade the database.

Settings come from the `AS_*` environment variables; `--data-dir DIR` stands for
`AS_DATABASE_URL=sqlite:///DIR/authorization_server.db`. Each command names the database it
uses; only `demo` and `migrate` create one, the others refuse a database that does not exist
(a mistyped path or the wrong working directory would otherwise start an empty one). Every
error is one line on stderr and exit status 2, never a traceback.
"""

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from services.authorization_server.context import ServerContext
from services.authorization_server.db import SCHEMA, make_engine, prepare
from services.authorization_server.key_encryption import KeyEncryptionError
from services.authorization_server.settings import Settings
from shared.migrations import SchemaError
from shared.settings import BaseServiceSettings, settings_error_message

PROG = "dropletbook-as"
USAGE_ERROR = 2
DATABASE_FILE = "authorization_server.db"  # its name under `dropletbook-demo --data-dir`
_WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 (listen addresses, not URLs)


class CliError(Exception):
    """A one-line message for stderr; the command exits with status 2."""


class _Posture(BaseServiceSettings):
    """`AS_ENVIRONMENT` alone, known before the other settings are checked."""

    model_config = SettingsConfigDict(env_prefix="AS_")


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
def _context(*, create: bool = False) -> Iterator[ServerContext]:
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


def _migrate(_: argparse.Namespace) -> None:
    from services.migrate import run

    run([SCHEMA.service], prog=PROG)  # the same as `dropletbook-migrate authorization-server`


def _rotate_key(_: argparse.Namespace) -> None:
    with _context() as context:
        record = context.keys.rotate()
    ttl = f"{context.settings.key_cache_ttl:g}"
    print(
        f"new key {record.kid} stored: running servers publish it within {ttl} s "
        f"(AS_KEY_CACHE_TTL); it signs from {record.active_from.isoformat()}"
    )


def _rotate_kek(_: argparse.Namespace) -> None:
    with _context() as context:
        kek_id = context.settings.key_encryption_key_id
        if kek_id is None:
            raise CliError("set AS_KEY_ENCRYPTION_KEYS (and AS_KEY_ENCRYPTION_KEY_ID) first")
        count = context.keys.reencrypt()
    print(f"{count} signing key(s) encrypted under key encryption key {kek_id}")


def _read_password(args: argparse.Namespace) -> str:
    """From stdin (one line) or a prompt asked twice; never from the command line."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise CliError("no terminal to prompt for the password: use --password-stdin")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != password:
        raise CliError("the passwords do not match")
    return password


def _create_user(args: argparse.Namespace) -> None:
    from services.authorization_server.users import UserInputError, create_user

    password = _read_password(args)
    with _context() as context, Session(context.engine) as session:
        try:
            user = create_user(
                session,
                passwords=context.passwords,
                email=args.email,
                password=password,
                name=args.name,
            )
        except UserInputError as exc:
            raise CliError(str(exc)) from None
        print(f"created user {user.email} ({user.id})")


def _demo(args: argparse.Namespace) -> None:
    import uvicorn

    from services.authorization_server.demo import FEED_CLIENT_ID, DemoSettings, seed_demo

    posture = _Posture()
    if not posture.is_development:
        raise CliError(
            f"refusing to seed demo data with AS_ENVIRONMENT={posture.environment}: "
            "the demo runs only with AS_ENVIRONMENT=development"
        )
    if not os.environ.get("AS_ISSUER"):  # the URL it serves, for the banner and the tokens
        os.environ["AS_ISSUER"] = _public_url(args.host, args.port)
    try:
        demo = DemoSettings()
    except ValidationError as exc:
        raise CliError(f"invalid settings: {settings_error_message(exc, DemoSettings)}") from None
    with _context(create=True) as context:
        report = seed_demo(context, demo)
    settings = context.settings
    clients = report.clients
    for line in [f"added {what}" for what in report.added] + report.fixed:
        print(line, flush=True)
    if not report.added and not report.fixed:
        print("nothing to add: the demo user and clients already exist", flush=True)
    if args.seed_only:
        print(f"demo data ready: {settings.demo_user_email} and {len(clients)} clients", flush=True)
        return
    # The seeded resource server client may read the revoked-token feed.
    os.environ.setdefault("AS_REVOCATION_FEED_CLIENTS", f'["{FEED_CLIENT_ID}"]')
    password = settings.demo_user_password.get_secret_value()
    lines = "\n".join(
        f"  {c.client_id:<22} {c.client_secret or '(public client, no secret)'}" for c in clients
    )
    print(
        f"""
Droplet Cloud authorization server: {settings.issuer}
  log in:           {settings.issuer}/login   as {settings.demo_user_email} / {password}
  developer portal: {settings.issuer}/developer/apps
  API docs:         {settings.issuer}/docs
  metadata:         {settings.issuer}/.well-known/oauth-authorization-server
Demo clients (client_id, client secret), for Dropletbook at {demo.client_url}:
{lines}
""",
        flush=True,
    )
    uvicorn.run(
        "services.authorization_server.main:app", host=args.host, port=args.port, log_level="info"
    )


def _public_url(host: str, port: int) -> str:
    """`http://host:port`, with loopback for a wildcard listen address."""
    host = "127.0.0.1" if host in _WILDCARD_HOSTS else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        _fail(f"{message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__, allow_abbrev=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(name: str, run: Callable[[argparse.Namespace], None], text: str) -> _Parser:
        sub: _Parser = commands.add_parser(
            name,
            help=text,
            description=text,
            allow_abbrev=False,  # `--password` is no prefix
        )
        sub.set_defaults(run=run)
        sub.add_argument(
            "--data-dir",
            type=Path,
            metavar="DIR",
            help=f"use the SQLite database DIR/{DATABASE_FILE} (as `dropletbook-demo "
            "--data-dir DIR` makes it) instead of AS_DATABASE_URL",
        )
        return sub

    demo = command(
        "demo",
        _demo,
        "development only: seed the demo user and the Dropletbook clients (AS_DEMO_*), "
        "then serve; refused unless AS_ENVIRONMENT=development",
    )
    demo.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (127.0.0.1); without AS_ISSUER the issuer is http://HOST:PORT",
    )
    demo.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    demo.add_argument(
        "--seed-only", action="store_true", help="seed (idempotently) and exit without serving"
    )
    command(
        "migrate",
        _migrate,
        "create or upgrade the database (AS_DATABASE_URL) to this version's schema; "
        "back it up first",
    )
    command(
        "rotate-key",
        _rotate_key,
        "store a new signing key: running servers publish it within AS_KEY_CACHE_TTL "
        "seconds, and it signs after AS_KEY_ACTIVATION_DELAY seconds",
    )
    command(
        "rotate-kek",
        _rotate_kek,
        "re-encrypt every signing key under AS_KEY_ENCRYPTION_KEY_ID (keep the old key "
        "encryption keys in AS_KEY_ENCRYPTION_KEYS until this has run)",
    )
    user = command(
        "create-user",
        _create_user,
        "create a user account; the password is asked twice, or read from --password-stdin",
    )
    user.add_argument("--email", required=True, help="the account's email address (its login)")
    user.add_argument("--name", default="", help="display name (default: the email's local part)")
    user.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of prompting",
    )
    return parser


def _fail(message: str) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(USAGE_ERROR)


def main(argv: list[str] | None = None) -> None:
    args, extras = _parser().parse_known_args(argv)
    if extras:  # named without their values: a stray value may be a password
        options = " ".join(extra for extra in extras if extra.startswith("-"))
        _fail(f"unrecognized arguments: {options or f'{len(extras)} stray value(s)'} (see --help)")
    if args.data_dir is not None:  # read by Settings, `migrate` and the server `demo` starts
        os.environ["AS_DATABASE_URL"] = f"sqlite:///{(args.data_dir / DATABASE_FILE).resolve()}"
    try:
        args.run(args)
    except (CliError, KeyEncryptionError, SchemaError) as exc:
        _fail(str(exc))
    except SQLAlchemyError as exc:
        _fail(f"database error: {_first_line(str(getattr(exc, 'orig', None) or exc))}")
    except KeyboardInterrupt:
        _fail("interrupted")
    except Exception as exc:  # anything else is still one line, never a traceback
        _fail(f"{type(exc).__name__}: {_first_line(str(exc))}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no details)"


if __name__ == "__main__":
    main(sys.argv[1:])
