"""The authorization server application: `uvicorn services.authorization_server.main:app`."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi import FastAPI, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Scope

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.cors import EndpointCORSMiddleware
from services.authorization_server.db import SCHEMA, make_engine
from services.authorization_server.pages import render_error, see_other
from services.authorization_server.routes import (
    account,
    apps_self,
    authorize,
    developer,
    end_session,
    introspection,
    login,
    register,
    revocation,
    userinfo,
    well_known,
)
from services.authorization_server.schemas import SECURITY_SCHEMES, TokenResponse
from services.authorization_server.settings import Settings
from services.authorization_server.token_endpoint import (
    OPENAPI_PATH_ITEM,
    TOKEN_PATH,
    TokenFastPath,
    token_route,
)
from services.authorization_server.web_session import PAGE_SCOPE_KEY, LoginRequired
from shared import health
from shared.body_limit import BodyLimitMiddleware
from shared.db import utcnow
from shared.docs import install_docs
from shared.error_handlers import error_response, install_error_handlers
from shared.errors import OAuthError, log_detail
from shared.forwarded import install_forwarded_headers
from shared.hsts import install_hsts
from shared.lazy_app import lazy_app
from shared.log_redaction import install_access_log_redaction
from shared.migrations import start_up
from shared.openapi import install_openapi
from shared.public_host import install_public_host_redirect
from shared.settings import load_settings
from shared.telemetry import fastapi_telemetry
from shared.version import VERSION

logger = logging.getLogger(__name__)

# Back-channel endpoints answer errors in JSON even to a browser.
_JSON_PREFIXES = (
    "/v1/oauth/token",
    "/v1/oauth/revoke",  # and /v1/oauth/revoked-tokens
    "/v1/oauth/introspect",
    "/v1/oauth/register",
    "/v1/apps",
    "/v1/oauth/userinfo",
    "/.well-known",
)


def _maintain(context: ServerContext) -> None:
    """Periodic work: pick up rotated keys, drop expired rows."""
    context.keys.reload()
    with Session(context.engine) as session:
        repository.purge_expired(session=session, now=utcnow())


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    context: ServerContext = app.state.context
    development = context.settings.is_development  # else refuses an old schema
    await run_in_threadpool(start_up, context.engine, SCHEMA, development=development)
    await run_in_threadpool(context.keys.ensure_key)

    async def maintain_forever() -> None:
        while True:
            await asyncio.sleep(context.settings.key_cache_ttl)
            try:
                await run_in_threadpool(_maintain, context)
            except Exception:  # keep serving with what we have; try again next round
                logger.exception("maintenance failed")

    task = asyncio.create_task(maintain_forever())
    try:
        yield
    finally:
        task.cancel()
        await context.throttle.aclose()
        await context.db.dispose()
        context.engine.dispose()


async def _oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    log_detail(exc)
    wants_html = "text/html" in request.headers.get("accept", "")
    is_page = request.scope.get(PAGE_SCOPE_KEY, False)
    if is_page or (wants_html and not request.url.path.startswith(_JSON_PREFIXES)):
        return render_error(request, exc)
    return error_response(exc)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return see_other(f"/login?next={quote(exc.next, safe='')}")


async def _body_too_large(scope: Scope, error: OAuthError) -> Response:
    return await _oauth_error(Request(scope), error)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings(Settings)
    logging.basicConfig(level=settings.log_level.upper())
    install_access_log_redaction()
    # The requests' pool is the async engine's (`ServerContext.db`); this one serves start-up
    # and maintenance, a connection at a time.
    context = ServerContext.build(settings, make_engine(settings.database_url, pooled=False))
    token = token_route(context)
    app = FastAPI(
        telemetry=fastapi_telemetry(settings),
        title="Droplet Cloud authorization server",
        version=VERSION,
        description=(
            "OAuth 2 authorization server of the Dropletbook tutorial: authorization code "
            "with PKCE, implicit, password, client credentials and refresh tokens, issuing "
            "RFC 9068 JWT access tokens. Errors follow RFC 6749 §5.2."
        ),
        lifespan=_lifespan,
        # First in the table: the benchmark's baseline, then the hot path (token_endpoint).
        routes=[*health.router.routes, token],
        docs_url=None,  # served by `install_docs`, without a CDN
        redoc_url=None,
    )
    app.state.context = context
    install_error_handlers(app)
    app.add_exception_handler(OAuthError, _oauth_error)
    app.add_exception_handler(LoginRequired, _login_required)

    for module in (
        well_known,
        revocation,
        introspection,
        authorize,
        login,
        developer,
        account,
        register,
        apps_self,
        userinfo,
        end_session,
    ):
        app.include_router(module.router)

    install_docs(app)
    # The hot path: token requests skip the exception middleware and the router (measured
    # in bench/); inside the body cap, CORS and HSTS, which apply to them as to any route.
    app.add_middleware(TokenFastPath, route=token)
    # Inside CORS, so a cross-origin caller can read the 413; pages answer with a page.
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, render=_body_too_large
    )
    app.add_middleware(EndpointCORSMiddleware)
    install_hsts(app, settings.issuer)
    install_public_host_redirect(app, settings.issuer, development=settings.is_development)
    install_openapi(
        app,
        security_schemes=SECURITY_SCHEMES,
        paths={TOKEN_PATH: OPENAPI_PATH_ITEM},  # a plain Starlette route FastAPI skips
        models=[TokenResponse],
    )
    install_forwarded_headers(app, settings.forwarded_allow_ips)
    return app


__getattr__ = lazy_app(create_app, globals())
