"""Render every error as RFC 6749 §5.2 JSON, in one place."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

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


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = "not_found" if exc.status_code == 404 else "invalid_request"
    if exc.status_code == 405:
        code = "method_not_allowed"
    return JSONResponse(
        {"error": code, "error_description": str(exc.detail)},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _unexpected(_: Request, exc: Exception) -> Response:
    logger.exception("unhandled error", exc_info=exc)
    return JSONResponse({"error": "server_error"}, status_code=500, headers=NO_STORE_HEADERS)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OAuthError, _oauth_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
