"""The Dropletbook web app: `uvicorn services.demo_client.main:app`."""

import asyncio
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
from services.demo_client.db import SCHEMA, make_engine
from services.demo_client.deps import SessionCookie
from services.demo_client.errors import FlowError
from services.demo_client.pages import render_error
from services.demo_client.routes import (
    client_credentials,
    code_flow,
    implicit,
    inspector,
    password,
    sign_in,
)
from services.demo_client.sessions import session_cookie_for
from services.demo_client.settings import Settings
from shared import health
from shared.body_limit import BodyLimitMiddleware
from shared.docs import install_docs
from shared.error_handlers import install_method_not_allowed
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


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    context: ClientContext = app.state.context
    development = context.settings.is_development  # else refuses an old schema
    await run_in_threadpool(start_up, context.engine, SCHEMA, development=development)

    stop = asyncio.Event()

    async def purge_until_stopped() -> None:
        """Expired sessions go while the app runs, not only at start-up."""
        while not stop.is_set():
            try:
                removed = await run_in_threadpool(context.store.purge_expired)
            except Exception:  # keep serving; try again next round
                logger.exception("purging expired sessions failed")
            else:
                if removed:
                    logger.info("purged %d expired session(s)", removed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), context.settings.session_purge_interval)

    task = asyncio.create_task(purge_until_stopped())
    try:
        yield
    finally:
        stop.set()  # let a purge in progress finish before the engine goes
        await task
        context.http.close()
        context.engine.dispose()


def create_app(settings: Settings | None = None, *, http: httpx.Client | None = None) -> FastAPI:
    """`http` lets tests replace the back channel (e.g. with `httpx.MockTransport`)."""
    settings = settings or load_settings(Settings)
    logging.basicConfig(level=settings.log_level.upper())
    install_access_log_redaction()
    app = FastAPI(
        telemetry=fastapi_telemetry(settings),
        title="Dropletbook",
        version=VERSION,
        description="The tutorial's third-party app: every OAuth 2 flow, step by step.",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        routes=health.router.routes,
    )
    http = http or httpx.Client(timeout=settings.http_timeout, follow_redirects=False)
    app.state.context = ClientContext.build(settings, make_engine(settings.database_url), http)
    for module in (code_flow, sign_in, implicit, password, client_credentials, inspector):
        app.include_router(module.router)
    install_docs(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.middleware("http")
    async def session_cookie(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Send back the id of the session the request stored, if the browser lacks it."""
        cookie = SessionCookie(presented=session_cookie_for(settings).read(request))
        request.state.session_cookie = cookie
        response = await call_next(request)
        browser = cookie.browser
        if browser is not None and browser.stored and browser.session_id != cookie.presented:
            session_cookie_for(settings).set(
                response, browser.session_id, max_age=settings.session_ttl
            )
        return response

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    @app.exception_handler(FlowError)
    async def flow_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FlowError)
        return render_error(request, exc, None)

    install_hsts(app, settings.public_url)
    install_public_host_redirect(app, settings.public_url, development=settings.is_development)
    install_method_not_allowed(app)
    install_openapi(app, invalid_request_for_validation=False)  # FastAPI's 422 stays here
    install_forwarded_headers(app, settings.forwarded_allow_ips)
    return app


__getattr__ = lazy_app(create_app, globals())
