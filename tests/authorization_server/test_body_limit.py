"""Body caps at a real authorization server process (AS_MAX_BODY_BYTES): JSON on the
back channel, the readable error page on pages, declared or streamed alike."""

from collections.abc import Iterator

import httpx
import pytest

from tests.harness.servers import LiveServer

TOO_BIG = 64 * 1024  # over the 16 KiB default


def _streamed(size: int) -> Iterator[bytes]:
    for _ in range(size // 1024):
        yield b"x" * 1024


@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "streamed"])
def test_back_channel_answers_json(live_as: LiveServer, streamed: bool) -> None:
    content = _streamed(TOO_BIG) if streamed else b"x" * TOO_BIG
    response = httpx.post(
        f"{live_as.url}/v1/oauth/revoke",
        content=content,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "streamed"])
def test_pages_answer_with_the_error_page(live_as: LiveServer, streamed: bool) -> None:
    content = _streamed(TOO_BIG) if streamed else b"x" * TOO_BIG
    response = httpx.post(
        f"{live_as.url}/login",
        content=content,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "request body larger than" in response.text
    assert response.headers["x-frame-options"] == "DENY"


def test_the_server_keeps_serving(live_as: LiveServer) -> None:
    assert httpx.get(f"{live_as.url}/healthz").status_code == 200
