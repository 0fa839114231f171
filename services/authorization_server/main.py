"""The authorization server application: `uvicorn services.authorization_server.main:app`."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.cors import EndpointCORSMiddleware
from services.authorization_server.db import SCHEMA, make_engine
from services.authorization_server.pages import render_error
from services.authorization_server.routes import (
    account,
    apps_self,
    authorize,
    developer,
    login,
    register,
    token_status,
    well_known,
)
from services.authorization_server.schemas import ErrorResponse, TokenResponse
from services.authorization_server.settings import Settings
from services.authorization_server.token_endpoint import (
    OPENAPI_PATH_ITEM,
    TOKEN_PATH,
    TokenEndpoint,
)
from shared import health
from shared.body_limit import BodyLimitMiddleware
from shared.db import utcnow
from shared.docs import install_docs
from shared.error_handlers import error_response, install_error_handlers
from shared.errors import OAuthError
from shared.hsts import install_hsts, with_hsts
from shared.lazy_app import lazy_app
from shared.log_redaction import install_access_log_redaction
from shared.migrations import start_up

logger = logging.getLogger(__name__)

# Back-channel endpoints answer errors in JSON even to a browser.
_JSON_PREFIXES = (
    "/v1/oauth/token",
    "/v1/oauth/revoke",
    "/v1/oauth/introspect",
    "/v1/oauth/re",
    "/v1/apps",
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
        context.engine.dispose()


async def _oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    wants_html = "text/html" in request.headers.get("accept", "")
    if wants_html and not request.url.path.startswith(_JSON_PREFIXES):
        return render_error(request, exc)
    return error_response(exc)


async def _body_too_large(scope: Scope, error: OAuthError) -> Response:
    return await _oauth_error(Request(scope), error)


class AuthorizationServerApp(FastAPI):
    """FastAPI with a front door: token requests skip the framework (see token_endpoint)."""

    token_endpoint: ASGIApp  # set by `create_app`: the TokenEndpoint, with HSTS on https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == TOKEN_PATH and scope["method"] != "OPTIONS":
            await self.token_endpoint(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    logging.basicConfig(level=settings.log_level.upper())
    install_access_log_redaction()
    app = AuthorizationServerApp(
        title="Droplet Cloud authorization server",
        version="0.1.0",
        description=(
            "OAuth 2 authorization server of the Dropletbook tutorial: authorization code "
            "with PKCE, implicit, password, client credentials and refresh tokens, issuing "
            "RFC 9068 JWT access tokens. Errors follow RFC 6749 §5.2."
        ),
        lifespan=_lifespan,
        routes=health.router.routes,  # first in the table: the benchmark's baseline
        docs_url=None,  # served by `install_docs`, without a CDN
        redoc_url=None,
    )
    app.state.context = ServerContext.build(settings, make_engine(settings.database_url))
    app.token_endpoint = with_hsts(TokenEndpoint(app.state.context), settings.issuer)
    install_error_handlers(app)
    app.add_exception_handler(OAuthError, _oauth_error)

    for module in (
        well_known,
        token_status,
        authorize,
        login,
        developer,
        account,
        register,
        apps_self,
    ):
        app.include_router(module.router)

    install_docs(app)
    # Every body but the token endpoint's (read in front of this stack, with the same cap);
    # inside CORS, so a cross-origin caller can read the 413; pages answer with a page.
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, render=_body_too_large
    )
    app.add_middleware(EndpointCORSMiddleware)
    install_hsts(app, settings.issuer)
    _customize_openapi(app)
    return app


def _customize_openapi(app: FastAPI) -> None:
    """Security schemes, and the token endpoint, which is served in front of the router."""
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {})["securitySchemes"] = {
            "clientBasic": {
                "type": "http",
                "scheme": "basic",
                "description": "client_secret_basic: client id and secret",
            },
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        }
        schema["paths"][TOKEN_PATH] = OPENAPI_PATH_ITEM
        models = schema["components"].setdefault("schemas", {})
        for model in (TokenResponse, ErrorResponse):
            document = model.model_json_schema(ref_template="#/components/schemas/{model}")
            models.update(document.pop("$defs", {}))
            models[model.__name__] = document
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


__getattr__ = lazy_app(create_app, globals())
