"""Dropletbook caps request bodies too (CLIENT_MAX_BODY_BYTES, 64 KiB by default)."""

from collections.abc import Iterator

from tests.demo_client.fakes import FakeServers
from tests.demo_client.test_code_flow import csrf
from tests.harness.browser import Browser


def test_oversize_form_is_refused_before_any_call(browser: Browser, fake: FakeServers) -> None:
    token = csrf(browser, "/client-credentials")
    assert browser.post("/client-credentials/token", data={"csrf_token": token}).is_redirect
    requests = len(fake.requests)
    form = {"csrf_token": token, "description": "x" * 70_000, "redirect_uris": ""}
    response = browser.post("/client-credentials/registration", data=form)
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    assert len(fake.requests) == requests  # nothing reached Droplet Cloud


def test_streamed_oversize_body_is_cut(browser: Browser) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the body arrives in pieces
        yield b"csrf_token=x&description="
        for _ in range(100):
            yield b"x" * 1000

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = browser.post("/client-credentials/registration", content=chunks(), headers=headers)
    assert response.status_code == 413
