"""`dropletbook-as`: seed the demo, create users, rotate signing keys and key encryption keys,
upgrade the database.

Settings come from the `AS_*` environment variables. Every error is one line on stderr and
exit status 2, never a traceback.
"""

import argparse
import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict
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


@contextmanager
def _context() -> Iterator[ServerContext]:
    settings = _settings()
    context = ServerContext.build(settings, make_engine(settings.database_url))
    try:
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
    print(f"new key {record.kid} published now; it signs from {record.active_from.isoformat()}")


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
    import os

    import uvicorn

    from services.authorization_server.demo import FEED_CLIENT_ID, DemoSettings, seed_demo

    posture = _Posture()
    if not posture.is_development:
        raise CliError(
            f"refusing to seed demo data with AS_ENVIRONMENT={posture.environment}: "
            "the demo runs only with AS_ENVIRONMENT=development"
        )
    try:
        demo = DemoSettings()
    except ValidationError as exc:
        raise CliError(f"invalid settings: {settings_error_message(exc, DemoSettings)}") from None
    with _context() as context:
        clients = seed_demo(context, demo)
    settings = context.settings
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
        return sub

    demo = command(
        "demo",
        _demo,
        "development only: seed the demo user and the Dropletbook clients (AS_DEMO_*), "
        "then serve; refused unless AS_ENVIRONMENT=development",
    )
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
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
        "publish a new signing key now; it signs after AS_KEY_ACTIVATION_DELAY seconds",
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
