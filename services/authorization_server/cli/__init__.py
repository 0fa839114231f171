"""`dropletbook-as`: seed the demo, create users, rotate signing keys and key encryption keys,
upgrade the database.

Settings come from the `AS_*` environment variables; `--data-dir DIR` stands for
`AS_DATABASE_URL=sqlite:///DIR/authorization_server.db`. Each command names the database it
uses; only `demo` and `migrate` create one, the others refuse a database that does not exist
(a mistyped path or the wrong working directory would otherwise start an empty one). Every
error is one line on stderr and exit status 2, never a traceback; `--debug` adds the
traceback of an unexpected one (a bug), for a report.
"""

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from sqlalchemy.exc import SQLAlchemyError

from services.authorization_server.cli.context import CliError, database_name
from services.authorization_server.cli.demo import demo_command
from services.authorization_server.cli.keys import rotate_kek, rotate_key
from services.authorization_server.cli.users import create_user_command
from services.authorization_server.db import SCHEMA
from services.authorization_server.key_encryption import KeyEncryptionError
from shared.migrations import SchemaError

__all__ = ["CliError", "database_name", "main"]

PROG = "dropletbook-as"
USAGE_ERROR = 2
DATABASE_FILE = "authorization_server.db"  # its name under `dropletbook-demo --data-dir`
logger = logging.getLogger(__name__)


def _migrate(_: argparse.Namespace) -> None:
    from services.migrate import run

    run([SCHEMA.service], prog=PROG)  # the same as `dropletbook-migrate authorization-server`


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
        sub.add_argument(
            "--debug",
            action="store_true",
            help="on an unexpected error (a bug), print its traceback before the one-line message",
        )
        return sub

    demo = command(
        "demo",
        demo_command,
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
        rotate_key,
        "store a new signing key: running servers publish it within AS_KEY_CACHE_TTL "
        "seconds, and it signs after AS_KEY_ACTIVATION_DELAY seconds",
    )
    command(
        "rotate-kek",
        rotate_kek,
        "re-encrypt every signing key under AS_KEY_ENCRYPTION_KEY_ID (keep the old key "
        "encryption keys in AS_KEY_ENCRYPTION_KEYS until this has run)",
    )
    user = command(
        "create-user",
        create_user_command,
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
    except Exception as exc:  # a bug: one line, and its traceback in the debug log
        _debug_log(enabled=args.debug)
        logger.debug("unexpected error in %s", PROG, exc_info=True)
        hint = "" if args.debug else " (--debug shows the traceback)"
        _fail(f"{type(exc).__name__}: {_first_line(str(exc))}{hint}")


def _debug_log(*, enabled: bool) -> None:
    """This module's debug records on stderr when `--debug` asks for them."""
    if enabled:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # once, even where the root logger has a handler


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no details)"
