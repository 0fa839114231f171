"""The resource server application: `uvicorn services.resource_server.main:app`."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from services.resource_server.context import ResourceContext
from services.resource_server.db import SCHEMA, make_engine
from services.resource_server.routes import account, droplets, health
from services.resource_server.settings import Settings
from shared.body_limit import BodyLimitMiddleware
from shared.docs import install_docs
from shared.error_handlers import install_error_handlers
from shared.forwarded import install_forwarded_headers
from shared.hsts import install_hsts
from shared.jwks import JwksFetchError
from shared.lazy_app import lazy_app
from shared.log_redaction import install_access_log_redaction
from shared.migrations import start_up
from shared.openapi import install_openapi
from shared.settings import load_settings
from shared.telemetry import fastapi_telemetry
from shared.version import VERSION

logger = logging.getLogger(__name__)


async def _refresh_keys_forever(context: ResourceContext) -> None:
    """Pick up keys the authorization server publishes ahead of using them."""
    while True:
        try:
            await context.keys.refresh()
        except JwksFetchError as exc:  # keep verifying with the cached keys
            logger.warning(
                "JWKS refresh failed, keeping %d cached keys: %s", len(context.keys.kids), exc
            )
        await asyncio.sleep(context.settings.jwks_refresh_interval)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    context: ResourceContext = app.state.context
    development = context.settings.is_development  # else refuses an old schema
    await run_in_threadpool(start_up, context.engine, SCHEMA, development=development)
    tasks = [asyncio.create_task(_refresh_keys_forever(context))]
    if context.feed is not None:
        tasks.append(
            asyncio.create_task(context.feed.run(context.settings.revocation_poll_interval))
        )
    else:
        logger.warning(
            "RS_FEED_CLIENT_ID/SECRET unset: revoked tokens stay usable until they expire"
        )
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await context.http.aclose()
        context.engine.dispose()


def create_app(
    settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The app; `transport` lets tests serve the authorization server's documents in-process."""
    settings = settings or load_settings(Settings)
    logging.basicConfig(level=settings.log_level.upper())
    install_access_log_redaction()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per feed poll
    app = FastAPI(
        telemetry=fastapi_telemetry(settings),
        title="Droplet Cloud API",
        version=VERSION,
        description=(
            "The resource server of the Dropletbook tutorial: an account and its droplets, "
            "protected by RFC 9068 JWT access tokens from the authorization server. Send "
            "`Authorization: Bearer <token>`; errors follow RFC 6750 §3."
        ),
        lifespan=_lifespan,
        # The routes sit in the app's own table, cheapest and hottest first (healthz, the
        # benchmark's baseline, then the account). `include_router` would wrap each router in
        # a layer that matches every request twice: a fifth of /v2/account's server time.
        # (Routes passed this way ignore `app.dependency_overrides`; nothing here uses them.)
        routes=[*health.router.routes, *account.router.routes, *droplets.router.routes],
        docs_url=None,  # served by `install_docs`, without a CDN
        redoc_url=None,
    )
    app.state.context = ResourceContext.build(
        settings, make_engine(settings.database_url), transport=transport
    )
    install_error_handlers(app)
    install_docs(app)
    install_hsts(app, settings.audience)  # the audience is this server's public URL
    install_openapi(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    install_forwarded_headers(app, settings.forwarded_allow_ips)
    return app


__getattr__ = lazy_app(create_app, globals())
