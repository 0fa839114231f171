"""`dropletbook-as demo`: seed the demo user and the Dropletbook clients, then serve
(development only)."""

import argparse
import os

from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from services.authorization_server.cli.context import CliError, server_context
from services.authorization_server.demo import FEED_CLIENT_ID, DemoSettings, seed_demo
from shared.forwarded import uvicorn_options
from shared.http import public_url
from shared.settings import BaseServiceSettings, settings_error_message


class _Posture(BaseServiceSettings):
    """`AS_ENVIRONMENT` alone, known before the other settings are checked."""

    model_config = SettingsConfigDict(env_prefix="AS_")


def demo_command(args: argparse.Namespace) -> None:
    import uvicorn

    posture = _Posture()
    if not posture.is_development:
        raise CliError(
            f"refusing to seed demo data with AS_ENVIRONMENT={posture.environment}: "
            "the demo runs only with AS_ENVIRONMENT=development"
        )
    if not os.environ.get("AS_ISSUER"):  # the URL it serves, for the banner and the tokens
        os.environ["AS_ISSUER"] = public_url(args.host, args.port)
    try:
        demo = DemoSettings()
    except ValidationError as exc:
        raise CliError(f"invalid settings: {settings_error_message(exc, DemoSettings)}") from None
    with server_context(create=True) as context:
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
        "services.authorization_server.main:app",
        host=args.host,
        port=args.port,
        log_level="info",
        **uvicorn_options(),
    )
