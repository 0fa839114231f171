"""request_body.read_body: the body from ASGI `receive`, bounded, however it is chunked."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.requests import ClientDisconnect

from services.authorization_server.request_body import read_body
from shared.errors import PayloadTooLargeError


def _receive(
    *messages: dict[str, Any],
) -> tuple[Callable[[], Awaitable[dict[str, Any]]], list[int]]:
    """A `receive` that plays `messages` in order, and the count of messages taken."""
    taken = [0]

    async def receive() -> dict[str, Any]:
        taken[0] += 1
        return messages[taken[0] - 1]

    return receive, taken


def _chunks(body: bytes, size: int) -> list[dict[str, Any]]:
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    return [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]


@pytest.mark.parametrize("chunk_size", [1, 7, 4096, 100_000])
def test_body_is_reassembled_from_any_chunking(chunk_size: int) -> None:
    body = bytes(range(256)) * 40  # 10,240 bytes
    receive, _ = _receive(*_chunks(body, chunk_size))
    assert asyncio.run(read_body(receive, max_bytes=len(body))) == body


def test_empty_body_and_missing_body_key() -> None:
    receive, _ = _receive({"type": "http.request"})
    assert asyncio.run(read_body(receive, max_bytes=10)) == b""


def test_oversized_body_is_refused_as_soon_as_it_outgrows_the_limit() -> None:
    messages = _chunks(b"x" * 100, 10)
    receive, taken = _receive(*messages)
    with pytest.raises(PayloadTooLargeError):
        asyncio.run(read_body(receive, max_bytes=35))
    assert taken[0] == 4  # the fourth chunk crossed 35 bytes; the rest was never read


def test_client_disconnect_mid_body() -> None:
    receive, _ = _receive(
        {"type": "http.request", "body": b"grant_type=", "more_body": True},
        {"type": "http.disconnect"},
    )
    with pytest.raises(ClientDisconnect):
        asyncio.run(read_body(receive, max_bytes=1000))
