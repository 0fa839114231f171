"""request_body: one capped reader (`read_body`) under the form, page-form and JSON parsers."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request

from services.authorization_server.request_body import (
    read_body,
    read_form,
    read_json_object,
    read_page_form,
)
from shared.errors import InvalidRequestError, OAuthError, PayloadTooLargeError


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


def _request(body: bytes, content_type: str, chunk_size: int = 5) -> Request:
    receive, _ = _receive(*_chunks(body, chunk_size))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"content-type", content_type.encode())],
    }
    return Request(scope, receive)


_FORM = "application/x-www-form-urlencoded"


def test_every_parser_reads_through_the_capped_reader() -> None:
    assert asyncio.run(read_form(_request(b"a=1&b=2", _FORM), max_bytes=7)) == {"a": "1", "b": "2"}
    page = asyncio.run(read_page_form(_request(b"g=1&g=2", _FORM), max_bytes=7))
    assert page.getlist("g") == ["1", "2"]
    assert asyncio.run(
        read_json_object(_request(b'{"a": 1}', "application/json"), max_bytes=8)
    ) == {"a": 1}


@pytest.mark.parametrize(
    "parse",
    [
        pytest.param(lambda: read_form(_request(b"a=12345678", _FORM), max_bytes=8), id="form"),
        pytest.param(
            lambda: read_page_form(_request(b"a=12345678", _FORM), max_bytes=8), id="page-form"
        ),
        pytest.param(
            lambda: read_json_object(_request(b'{"a": 12345}', "application/json"), max_bytes=8),
            id="json",
        ),
    ],
)
def test_every_parser_refuses_a_body_over_the_cap(parse: Callable[[], Awaitable[Any]]) -> None:
    with pytest.raises(PayloadTooLargeError):
        asyncio.run(parse())


@pytest.mark.parametrize(
    ("request_", "parse", "error"),
    [
        pytest.param(b"a=1&a=2", read_form, InvalidRequestError, id="form-repeated"),
        pytest.param(b"\xff=1", read_page_form, InvalidRequestError, id="page-not-utf8"),
    ],
)
def test_parsers_refuse_bad_forms(
    request_: bytes, parse: Callable[..., Awaitable[Any]], error: type[OAuthError]
) -> None:
    with pytest.raises(error):
        asyncio.run(parse(_request(request_, _FORM), max_bytes=100))


def test_json_must_be_an_object() -> None:
    with pytest.raises(InvalidRequestError, match="JSON object"):
        asyncio.run(read_json_object(_request(b"[1]", "application/json"), max_bytes=100))
