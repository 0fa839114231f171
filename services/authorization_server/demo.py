"""Idempotent demo data: the demo user and the Dropletbook registration."""

from dataclasses import dataclass

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, utcnow
from services.authorization_server.registration import register_client
from services.authorization_server.users import create_user
from shared.crypto import hash_token

DEMO_CLIENT_ID = "dropletbook"
DEMO_REDIRECT_URI = "http://127.0.0.1:8080/callback"


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    client_secret: str
    redirect_uri: str


def seed_demo(context: ServerContext, *, client_secret: str) -> DemoClient:
    """Create the demo user and app if missing; reset the app's secret to the given one."""
    settings = context.settings
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
        client: Client | None = repository.get_client(session=session, client_id=DEMO_CLIENT_ID)
        if client is None:
            client, _ = register_client(
                session,
                client_id=DEMO_CLIENT_ID,
                name="Dropletbook",
                website="http://127.0.0.1:8080/",
                description="The tutorial's example app: it shows your droplets.",
                redirect_uris=[DEMO_REDIRECT_URI],
                grant_types=[
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                    "password",
                ],
                trusted=True,
                owner_id=user.id,
                supported_scopes=settings.scopes,
            )
        client.client_secret_hash = hash_token(client_secret)
        client.updated_at = utcnow()
        session.add(client)
        session.commit()
    return DemoClient(DEMO_CLIENT_ID, client_secret, DEMO_REDIRECT_URI)
