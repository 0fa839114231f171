"""Render every error as RFC 6749 §5.2 JSON, in one place."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from shared.errors import InvalidRequestError, OAuthError
from shared.http import NO_STORE_HEADERS
from shared.validation import describe

logger = logging.getLogger(__name__)


def error_response(exc: OAuthError) -> JSONResponse:
    return JSONResponse(
        exc.body(), status_code=exc.status_code, headers={**NO_STORE_HEADERS, **exc.headers()}
    )


async def _oauth_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return error_response(exc)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(InvalidRequestError(describe(exc.errors())))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        return await _method_not_allowed(request, exc)
    code = "not_found" if exc.status_code == 404 else "invalid_request"
    return JSONResponse(
        {"error": code, "error_description": str(exc.detail)},
        status_code=exc.status_code,
        headers=exc.headers,
    )


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's 405 names only those of the
    first route that matched the path, one of several when GET and PATCH are two routes;
    routes are asked per method, as FastAPI nests included routers in its own route type."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 with an `Allow` header listing all the path's methods (RFC 9110 §15.5.6), when
    the router refused the method (a 405 of its own, e.g. from static files, is kept)."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if "Allow" in headers:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return JSONResponse(
        {"error": "method_not_allowed", "error_description": str(exc.detail)},
        status_code=405,
        headers=headers,
    )


def install_method_not_allowed(app: FastAPI) -> None:
    """Only the 405 answer (for an app that renders its other errors itself)."""
    app.add_exception_handler(405, _method_not_allowed)


async def _unexpected(_: Request, exc: Exception) -> Response:
    logger.exception("unhandled error", exc_info=exc)
    return JSONResponse({"error": "server_error"}, status_code=500, headers=NO_STORE_HEADERS)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OAuthError, _oauth_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
