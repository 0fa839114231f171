"""The Dropletbook web app: `uvicorn services.demo_client.main:app`."""

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.demo_client.context import ClientContext
from services.demo_client.db import create_tables, make_engine
from services.demo_client.flows import FlowError
from services.demo_client.pages import render_error
from services.demo_client.routes import client_credentials, code_flow, implicit, inspector, password
from services.demo_client.sessions import COOKIE, new_cookie
from services.demo_client.settings import Settings
from shared import health
from shared.body_limit import BodyLimitMiddleware
from shared.lazy_app import lazy_app
from shared.log_redaction import install_access_log_redaction

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    context: ClientContext = app.state.context
    await run_in_threadpool(create_tables, context.engine)
    await run_in_threadpool(context.store.purge_expired)
    try:
        yield
    finally:
        context.http.close()
        context.engine.dispose()


def create_app(settings: Settings | None = None, *, http: httpx.Client | None = None) -> FastAPI:
    """`http` lets tests replace the back channel (e.g. with `httpx.MockTransport`)."""
    settings = settings or Settings()
    logging.basicConfig(level=settings.log_level.upper())
    install_access_log_redaction()
    app = FastAPI(
        title="Dropletbook",
        version="0.1.0",
        description="The tutorial's third-party app: every OAuth 2 flow, step by step.",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        routes=health.router.routes,
    )
    http = http or httpx.Client(timeout=settings.http_timeout, follow_redirects=False)
    app.state.context = ClientContext.build(settings, make_engine(settings.database_url), http)
    for module in (code_flow, implicit, password, client_credentials, inspector):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.middleware("http")
    async def session_cookie(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Every browser gets a random session id; its tokens stay in our database."""
        cookie = request.cookies.get(COOKIE, "")
        fresh = not (20 <= len(cookie) <= 100)
        if fresh:
            cookie = new_cookie()
        request.state.session_cookie = cookie
        response = await call_next(request)
        if fresh and not request.url.path.startswith(("/static", "/healthz")):
            response.set_cookie(
                COOKIE,
                cookie,
                max_age=settings.session_ttl,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
                path="/",
            )
        return response

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    @app.exception_handler(FlowError)
    async def flow_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FlowError)
        return render_error(request, exc, None)

    return app


__getattr__ = lazy_app(create_app, globals())
