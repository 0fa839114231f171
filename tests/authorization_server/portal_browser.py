"""Driving the portal pages (developer, account) like a browser: cookies, CSRF, consent."""

import base64
import hashlib
import html
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from services.authorization_server.settings import Settings
from tests.databases import TestDatabases
from tests.factories import PASSWORD, as_environment, test_settings
from tests.live_server import LiveServer, free_port

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@contextmanager
def live_authorization_server(
    databases: TestDatabases, logs_dir: Path, name: str, **overrides: Any
) -> Iterator[LiveServer]:
    """Like the `live_as` fixture, with settings overrides; `server.settings` is set."""
    port = free_port()
    settings = test_settings(
        databases.new_url("as"), issuer=f"http://127.0.0.1:{port}", **overrides
    )
    server = LiveServer(
        "services.authorization_server.main:app",
        as_environment(settings),
        port=port,
        log=logs_dir / f"as-{name}.log",
    )
    server.start()
    server.settings = settings  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


def server_settings(server: LiveServer) -> Settings:
    settings: Settings = server.settings  # type: ignore[attr-defined]
    return settings


def csrf_token(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token in {page.request.url}"
    return html.unescape(match.group(1))


def hidden_fields(page: httpx.Response) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(page.text)}


class Browser:
    """One user agent: keeps cookies, never follows redirects on its own."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=10)

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, action: str, data: dict[str, Any]) -> httpx.Response:
        return self.http.post(action, data=data)

    def submit(
        self, page_path: str, action: str, data: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Load `page_path`, then post `data` to `action` with that page's CSRF token."""
        page = self.get(page_path)
        assert page.status_code == 200, page.text
        return self.post(action, {**(data or {}), "csrf_token": csrf_token(page)})

    def login(self, email: str, password: str = PASSWORD) -> None:
        response = self.submit("/login", "/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text

    def authorize(self, client_id: str, redirect_uri: str, scope: str) -> tuple[str, str]:
        """Approve a code request on the consent screen; returns the code and PKCE verifier."""
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": "xyz",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        consent = self.get("/v1/oauth/authorize", params=params)
        assert consent.status_code == 200, consent.text
        answer = self.post(
            "/v1/oauth/authorize/decision", {**hidden_fields(consent), "decision": "approve"}
        )
        assert answer.status_code == 303, answer.text
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        return query["code"][0], verifier


def exchange_code(
    base_url: str, *, client_id: str, secret: str, code: str, verifier: str, redirect_uri: str
) -> dict[str, Any]:
    response = httpx.post(
        f"{base_url}/v1/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        },
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def client_credentials(
    base_url: str, client_id: str, secret: str, scope: str = "read", resource: str | None = None
) -> httpx.Response:
    form = {"grant_type": "client_credentials", "scope": scope}
    return httpx.post(
        f"{base_url}/v1/oauth/token",
        data=form | ({"resource": resource} if resource else {}),
        auth=(client_id, secret),
    )
