"""`dropletbook-as`: run the server, seed the demo, create users, rotate the signing key."""

import argparse
import sys

from sqlmodel import Session

from services.authorization_server.context import ServerContext
from services.authorization_server.db import create_tables, make_engine
from services.authorization_server.settings import Settings


def _context() -> ServerContext:
    settings = Settings()
    context = ServerContext.build(settings, make_engine(settings.database_url))
    create_tables(context.engine)
    context.keys.ensure_key()
    return context


def _rotate_key(_: argparse.Namespace) -> None:
    context = _context()
    record = context.keys.rotate()
    print(f"new key {record.kid} published now; it signs from {record.active_from.isoformat()}")


def _create_user(args: argparse.Namespace) -> None:
    from services.authorization_server.users import create_user

    context = _context()
    with Session(context.engine) as session:
        user = create_user(
            session,
            passwords=context.passwords,
            email=args.email,
            password=args.password,
            name=args.name,
        )
        print(f"created user {user.email} ({user.id})")


def _demo(args: argparse.Namespace) -> None:
    import os

    import uvicorn

    from services.authorization_server.demo import FEED_CLIENT_ID, DemoSettings, seed_demo

    demo = DemoSettings()
    context = _context()
    clients = seed_demo(context, demo)
    settings = context.settings
    context.engine.dispose()
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dropletbook-as", description=__doc__)
    commands = parser.add_subparsers(required=True)
    demo = commands.add_parser(
        "demo", help="seed the demo user and the Dropletbook clients (AS_DEMO_*), then serve"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument(
        "--seed-only", action="store_true", help="seed (idempotently) and exit without serving"
    )
    demo.set_defaults(run=_demo)
    rotate = commands.add_parser(
        "rotate-key", help="publish a new signing key (signs after AS_KEY_ACTIVATION_DELAY)"
    )
    rotate.set_defaults(run=_rotate_key)
    user = commands.add_parser("create-user", help="create a user account")
    user.add_argument("--email", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--name", default="")
    user.set_defaults(run=_create_user)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
