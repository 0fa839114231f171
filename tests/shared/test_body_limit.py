"""The body-size cap every service installs: refused from Content-Length, cut while streaming."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from shared.body_limit import BodyLimitMiddleware

LIMIT = 1024


class Recorder:
    def __init__(self) -> None:
        self.calls = 0
        self.read = 0
        self.disconnected = False


def _app(recorder: Recorder) -> Any:
    async def echo_size(request: Request) -> Response:
        recorder.calls += 1
        try:
            async for chunk in request.stream():
                recorder.read += len(chunk)
        except ClientDisconnect:
            recorder.disconnected = True
            raise
        return JSONResponse({"size": recorder.read})

    async def ignore_body(request: Request) -> Response:
        recorder.calls += 1
        return JSONResponse({"error": "invalid_token"}, status_code=401)

    app = Starlette(
        routes=[
            Route("/echo", echo_size, methods=["POST"]),
            Route("/ignore", ignore_body, methods=["POST"]),
        ]
    )
    return BodyLimitMiddleware(app, max_bytes=LIMIT)


def _post(app: Any, path: str, **kwargs: Any) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(path, **kwargs)

    return asyncio.run(run())


def _chunks(total: int, size: int = 256) -> Any:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, total, size):
            yield b"x" * min(size, total - start)

    return chunks()


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"request body larger than {LIMIT} bytes",
    }
    assert response.headers["cache-control"] == "no-store"


def test_declared_size_over_the_limit_never_reaches_the_app() -> None:
    recorder = Recorder()
    _assert_too_large(_post(_app(recorder), "/echo", content=b"x" * (LIMIT + 1)))
    assert recorder.calls == 0


@pytest.mark.parametrize("size", [0, 1, LIMIT], ids=str)
def test_bodies_within_the_limit_pass(size: int) -> None:
    for content in (b"x" * size, _chunks(size)):
        response = _post(_app(Recorder()), "/echo", content=content)
        assert response.status_code == 200, response.text
        assert response.json() == {"size": size}


def test_streamed_body_is_cut_at_the_limit() -> None:
    recorder = Recorder()
    _assert_too_large(_post(_app(recorder), "/echo", content=_chunks(100 * LIMIT)))
    assert recorder.calls == 1
    assert recorder.disconnected  # the app stopped reading at the limit
    assert recorder.read <= LIMIT


def test_a_body_nobody_reads_is_not_refused() -> None:
    """The app answers first (here a 401): the limit never applies to unread bytes."""
    response = _post(_app(Recorder()), "/ignore", content=_chunks(100 * LIMIT))
    assert response.status_code == 401


def test_after_the_response_started_the_app_sees_a_disconnect() -> None:
    """Too late for a 413: the body is still cut, and the app reads a disconnect."""

    async def answer_then_read(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        await send({"type": "http.response.body", "body": message["type"].encode()})

    app = BodyLimitMiddleware(answer_then_read, max_bytes=LIMIT)
    response = _post(app, "/", content=_chunks(100 * LIMIT))
    assert (response.status_code, response.content) == (200, b"http.disconnect")
