"""Everything a request needs, built once by `create_app` and kept on `app.state`."""

from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine

from services.demo_client.api import BearerApi
from services.demo_client.oauth import TokenClient
from services.demo_client.sealing import SessionKeys
from services.demo_client.sessions import SessionStore
from services.demo_client.settings import Settings


@dataclass(frozen=True)
class ClientContext:
    settings: Settings
    engine: Engine
    http: httpx.Client
    store: SessionStore
    code_client: TokenClient
    implicit_client: TokenClient
    trusted_client: TokenClient
    client_credentials_client: TokenClient
    """Dropletbook's registration that acts on its own account (`service_client_id`)."""
    resources: BearerApi
    apps: BearerApi

    @classmethod
    def build(cls, settings: Settings, engine: Engine, http: httpx.Client) -> "ClientContext":
        def token_client(client_id: str, secret: str | None) -> TokenClient:
            return TokenClient(
                http, base_url=settings.as_internal_url, client_id=client_id, client_secret=secret
            )

        return cls(
            settings=settings,
            engine=engine,
            http=http,
            store=SessionStore(
                engine,
                ttl=settings.session_ttl,
                keys=SessionKeys(settings.session_encryption_key.get_secret_value()),
            ),
            code_client=token_client(settings.client_id, settings.client_secret.get_secret_value()),
            implicit_client=token_client(settings.implicit_client_id, None),
            trusted_client=token_client(
                settings.trusted_client_id, settings.trusted_client_secret.get_secret_value()
            ),
            client_credentials_client=token_client(
                settings.service_client_id, settings.service_client_secret.get_secret_value()
            ),
            resources=BearerApi(http, base_url=settings.rs_internal_url, shown_url=settings.rs_url),
            apps=BearerApi(http, base_url=settings.as_internal_url, shown_url=settings.issuer),
        )
