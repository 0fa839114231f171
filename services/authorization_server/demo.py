"""Idempotent demo data: the demo user and the Dropletbook registrations.

Five clients, each for one part of the tutorial's walk (default secrets in `DemoSettings`):
- `dropletbook`: confidential, authorization_code + refresh_token (the Connect flow, and
  Sign in with Droplet Cloud: OpenID Connect, with its post-logout redirect URI);
- `dropletbook-implicit`: public, implicit (no secret);
- `dropletbook-trusted`: confidential and trusted, password + refresh_token;
- `dropletbook-service`: confidential, client_credentials (its own registration);
- `droplet-cloud-api`: the resource server, reading the revoked-token feed: a system client
  with no owner, so it is none of the demo user's apps in the developer portal.

Seeding again updates what the demo depends on (grants, redirect URIs, secrets) and keeps
everything else, including what the apps changed about themselves. Only in development:
the demo's user and secrets are public.
"""

from dataclasses import dataclass

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from services.authorization_server.registration import register_client
from services.authorization_server.users import create_user
from shared.crypto import hash_token
from shared.db import utcnow

DEMO_CLIENT_ID = "dropletbook"
IMPLICIT_CLIENT_ID = "dropletbook-implicit"
TRUSTED_CLIENT_ID = "dropletbook-trusted"
SERVICE_CLIENT_ID = "dropletbook-service"
FEED_CLIENT_ID = "droplet-cloud-api"


class DemoSettings(BaseSettings):
    """Where the demo client lives and the demo secrets (environment prefix `AS_DEMO_`)."""

    model_config = SettingsConfigDict(
        env_prefix="AS_DEMO_", extra="ignore", hide_input_in_errors=True
    )

    client_url: str = "http://127.0.0.1:8080"
    """Dropletbook's public URL; its redirect URIs are built from it."""
    client_secret: SecretStr = SecretStr("dropletbook-demo-secret")
    trusted_client_secret: SecretStr = SecretStr("dropletbook-trusted-demo-secret")
    service_client_secret: SecretStr = SecretStr("dropletbook-service-demo-secret")
    feed_client_secret: SecretStr = SecretStr("droplet-cloud-api-demo-secret")

    @field_validator("client_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class DemoRefusedError(RuntimeError):
    """Seeding the demo outside development."""


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    name: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    client_type: str = "confidential"
    trusted: bool = False
    description: str = ""
    system: bool = False
    """No owner: infrastructure, not one of the demo user's apps."""
    post_logout_redirect_uris: tuple[str, ...] = ()
    """RP-Initiated Logout: where the end-session endpoint may send the browser back."""


@dataclass(frozen=True)
class SeedReport:
    """What seeding did, for the command's output."""

    clients: list[DemoClient]
    added: list[str]
    """`user <email>` and `client <id>` for each one created."""
    fixed: list[str]
    """Ownership corrected (a system client owned by the demo user in older databases)."""


def demo_clients(demo: DemoSettings) -> list[DemoClient]:
    url = demo.client_url
    return [
        DemoClient(
            DEMO_CLIENT_ID,
            "Dropletbook",
            demo.client_secret.get_secret_value(),
            (f"{url}/callback", f"{url}/signin/callback"),
            ("authorization_code", "refresh_token"),
            description="The tutorial's example app: it shows your droplets.",
            post_logout_redirect_uris=(f"{url}/signout/done",),
        ),
        DemoClient(
            IMPLICIT_CLIENT_ID,
            "Dropletbook (browser-only)",
            None,
            (f"{url}/implicit/callback",),
            ("implicit",),
            client_type="public",
            description="Dropletbook's implicit-flow demo: a public client without a secret.",
        ),
        DemoClient(
            TRUSTED_CLIENT_ID,
            "Dropletbook (first-party)",
            demo.trusted_client_secret.get_secret_value(),
            (),
            ("password", "refresh_token"),
            trusted=True,
            description="Dropletbook's password-grant demo: marked trusted (first-party).",
        ),
        DemoClient(
            SERVICE_CLIENT_ID,
            "Dropletbook (service)",
            demo.service_client_secret.get_secret_value(),
            (),
            ("client_credentials",),
            description="Dropletbook acting on its own account.",
        ),
        DemoClient(
            FEED_CLIENT_ID,
            "Droplet Cloud API",
            demo.feed_client_secret.get_secret_value(),
            (),
            ("client_credentials",),
            description="The resource server: reads the revoked-token feed.",
            system=True,
        ),
    ]


def seed_demo(context: ServerContext, demo: DemoSettings | None = None) -> SeedReport:
    """Create the demo user and clients if missing; reset what the demo relies on.

    Development only: the demo's secrets are public, so production refuses to seed them.
    """
    settings = context.settings
    if not settings.is_development:
        raise DemoRefusedError("demo data is seeded only with AS_ENVIRONMENT=development")
    demo = demo or DemoSettings()
    wanted = demo_clients(demo)
    added: list[str] = []
    fixed: list[str] = []
    with Session(context.engine, expire_on_commit=False) as session:
        user = repository.get_user_by_email(session=session, email=settings.demo_user_email)
        if user is None:
            user = create_user(
                session,
                passwords=context.passwords,
                email=settings.demo_user_email,
                password=settings.demo_user_password.get_secret_value(),
                name="Demo User",
            )
            added.append(f"user {user.email}")
        for spec in wanted:
            owner_id = None if spec.system else user.id
            client: Client | None = repository.get_client(session=session, client_id=spec.client_id)
            if client is None:
                client, _ = register_client(
                    session,
                    client_id=spec.client_id,
                    name=spec.name,
                    website=f"{demo.client_url}/",
                    description=spec.description,
                    redirect_uris=spec.redirect_uris,
                    client_type=spec.client_type,
                    grant_types=spec.grant_types,
                    trusted=spec.trusted,
                    owner_id=owner_id,
                    supported_scopes=settings.scopes,
                )
                added.append(f"client {spec.client_id}")
            else:
                client.grant_types = list(spec.grant_types)
                client.client_type = spec.client_type
                client.trusted = spec.trusted
                if spec.redirect_uris:  # the others may have been changed by the app itself
                    client.redirect_uris = list(spec.redirect_uris)
                if spec.system and client.owner_id is not None:
                    client.owner_id = None  # seeded as the demo user's app before
                    fixed.append(f"client {spec.client_id} is now a system client (no owner)")
            if spec.post_logout_redirect_uris:
                client.post_logout_redirect_uris = list(spec.post_logout_redirect_uris)
            client.client_secret_hash = (
                hash_token(spec.client_secret) if spec.client_secret else None
            )
            client.updated_at = utcnow()
            session.add(client)
        session.commit()
    return SeedReport(wanted, added, fixed)
