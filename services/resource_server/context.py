"""Everything a request needs, built once per app by `create_app` and kept on `app.state`."""

from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine

from services.resource_server.accounts import AccountCache
from services.resource_server.revocation import FEED_PATH, RevocationFeed, RevokedTokens
from services.resource_server.settings import Settings
from services.resource_server.verifier import TokenVerifier
from shared.jwks import JwksCache


@dataclass(frozen=True)
class ResourceContext:
    settings: Settings
    engine: Engine
    http: httpx.AsyncClient
    keys: JwksCache
    revoked: RevokedTokens
    feed: RevocationFeed | None
    verifier: TokenVerifier
    accounts: AccountCache

    @classmethod
    def build(
        cls,
        settings: Settings,
        engine: Engine,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> "ResourceContext":
        http = httpx.AsyncClient(
            timeout=settings.http_timeout, transport=transport, follow_redirects=False
        )
        keys = JwksCache(
            http,
            issuer=settings.issuer,
            internal_url=settings.internal_issuer_url,
            algorithms=settings.algorithms,
            refetch_min_interval=settings.jwks_refetch_min_interval,
        )
        revoked = RevokedTokens()
        feed = None
        if settings.feed_client_id and settings.feed_client_secret:
            feed = RevocationFeed(
                http,
                url=lambda: keys.endpoint("revoked_tokens_endpoint", FEED_PATH),
                client_id=settings.feed_client_id,
                client_secret=settings.feed_client_secret.get_secret_value(),
                revoked=revoked,
            )
        verifier = TokenVerifier(
            keys=keys,
            revoked=revoked,
            issuer=settings.issuer,
            audience=settings.audience,
            algorithms=settings.algorithms,
            leeway=settings.leeway,
            cache_size=settings.token_cache_size,
            max_revocation_age=settings.max_revocation_age,
        )
        accounts = AccountCache(ttl=settings.account_cache_ttl)
        return cls(settings, engine, http, keys, revoked, feed, verifier, accounts)
