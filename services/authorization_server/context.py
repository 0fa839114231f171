"""Everything a request needs, built once per app by `create_app` and kept on `app.state`."""

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.authorization_server.client_auth import ClientCache
from services.authorization_server.grants import Grant, GrantContext, build_grants
from services.authorization_server.key_encryption import KeyEncryption
from services.authorization_server.keys import KeyStore
from services.authorization_server.mail import Mailer
from services.authorization_server.models import Client
from services.authorization_server.oidc.id_token import ID_TOKEN_ALGORITHMS, IdTokenIssuer
from services.authorization_server.passwords import PasswordHasher
from services.authorization_server.settings import Settings
from services.authorization_server.throttle import Throttle
from services.authorization_server.tokens import AccessTokenIssuer
from shared.db import make_async_engine


@dataclass(frozen=True)
class ServerContext:
    settings: Settings
    engine: Engine
    """Sync, never on a request path: start-up and migrations, the key store, the periodic
    maintenance, and the CLI and demo seeding."""
    db: AsyncEngine
    """Every request path's engine, on the event loop (pages through `deps.run_sync`): one
    pool of `db_pool_size` per process."""
    keys: KeyStore
    tokens: AccessTokenIssuer
    id_tokens: IdTokenIssuer
    passwords: PasswordHasher
    clients: ClientCache
    grants: dict[str, Grant]
    throttle: Throttle
    mailer: Mailer

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> "ServerContext":
        keys = KeyStore(
            engine,
            algorithm=settings.signing_algorithm,
            activation_delay=settings.key_activation_delay,
            token_ttl=settings.access_token_ttl,
            extra_algorithms=ID_TOKEN_ALGORITHMS,
            encryption=KeyEncryption.from_settings(
                settings.key_encryption_keys, settings.key_encryption_key_id
            ),
        )
        tokens = AccessTokenIssuer(
            keys,
            issuer=settings.issuer,
            audience=settings.resource_audience,
            ttl=settings.access_token_ttl,
        )
        id_tokens = IdTokenIssuer(keys, issuer=settings.issuer, ttl=settings.access_token_ttl)
        passwords = PasswordHasher(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
        )

        db = make_async_engine(settings.database_url, pool_size=settings.db_pool_size)

        async def load_client(client_id: str) -> Client | None:
            async with AsyncSession(db, expire_on_commit=False) as session:
                return await session.get(Client, client_id)

        clients = ClientCache(load_client, ttl=settings.client_cache_ttl)
        throttle = Throttle.of(settings)
        grants = build_grants(GrantContext(db, tokens, passwords, settings, id_tokens, throttle))
        return cls(
            settings,
            engine,
            db,
            keys,
            tokens,
            id_tokens,
            passwords,
            clients,
            grants,
            throttle,
            Mailer(settings),
        )
