"""`dropletbook-as create-user`: the password from a prompt or stdin, never an argument."""

import argparse
import getpass
import sys

from sqlmodel import Session

from services.authorization_server.cli.context import CliError, server_context
from services.authorization_server.users import UserInputError, create_user


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


def create_user_command(args: argparse.Namespace) -> None:
    password = _read_password(args)
    with server_context() as context, Session(context.engine) as session:
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
