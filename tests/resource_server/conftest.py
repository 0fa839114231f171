"""Resource server fixtures: test keys, tokens, and a fake authorization server.

The fake serves the metadata, JWKS and revoked-token feed through an `httpx.MockTransport`
handed to the app, so the real discovery and fetch code runs without a network.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.resource_server.main import create_app
from services.resource_server.settings import Settings
from shared.jwt import SigningKey, generate_private_pem, load_signing_key, public_jwk, sign_jwt
from tests.databases import TestDatabases
from tests.resource_server.live import Stack, start_stack

ISSUER = "http://as.test"
AUDIENCE = "http://rs.test"


def new_key(algorithm: str = "ES256", kid: str | None = None) -> SigningKey:
    return load_signing_key(
        kid=kid or uuid.uuid4().hex[:12],
        algorithm=algorithm,
        private_pem=generate_private_pem(algorithm),
    )


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return new_key("ES256", kid="es-key-1")


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    return new_key("RS256", kid="rs-key-1")


def claims_for(**overrides: Any) -> dict[str, Any]:
    """RFC 9068 claims for a user token; a None override removes the claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user-" + uuid.uuid4().hex[:8],
        "aud": AUDIENCE,
        "client_id": "dropletbook",
        "scope": "read write",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def make_token(key: SigningKey, *, typ: str = "at+jwt", **overrides: Any) -> str:
    return sign_jwt(claims_for(**overrides), key=key, typ=typ)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], *, secret: bytes = b"") -> str:
    """A hand-built JWS: `alg: none` (empty signature) or HS256 keyed with `secret`."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if header.get("alg") == "HS256":
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(mac)}"
    return f"{signing_input}."


def public_pem(key: SigningKey) -> bytes:
    pem: bytes = key.key.public_key().to_pem()
    return pem


class FakeAuthorizationServer:
    """Metadata, JWKS and revocation feed of an authorization server, counting requests."""

    def __init__(self, keys: list[SigningKey], *, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self.jwks: dict[str, Any] = {"keys": [public_jwk(key) for key in keys]}
        self.revoked: list[dict[str, Any]] = []
        self.revoked_clients: list[dict[str, Any]] = []
        self.feed_credentials: tuple[str, str] = ("rs-feed", "feed-secret")
        self.hits: Counter[str] = Counter()
        self.down = False
        self.transport = httpx.MockTransport(self.handle)

    def publish(self, *keys: SigningKey) -> None:
        self.jwks = {"keys": [public_jwk(key) for key in keys]}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.hits[request.url.path] += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json=self.metadata())
        if path == "/.well-known/jwks.json":
            return httpx.Response(200, json=self.jwks)
        if path == "/v1/oauth/revoked-tokens":
            user, secret = self.feed_credentials
            expected = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return httpx.Response(401, json={"error": "invalid_client"})
            body = {
                "revoked": self.revoked,
                "revoked_clients": self.revoked_clients,
                "generated_at": 0,
            }
            return httpx.Response(200, json=body)
        return httpx.Response(404, json={"error": "not_found"})

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "revoked_tokens_endpoint": f"{self.issuer}/v1/oauth/revoked-tokens",
        }


@pytest.fixture
def fake_as(signing_key: SigningKey, rsa_key: SigningKey) -> FakeAuthorizationServer:
    return FakeAuthorizationServer([signing_key, rsa_key])


def rs_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "development",
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "database_url": database_url,
        "feed_client_id": "rs-feed",
        "feed_client_secret": "feed-secret",
        "revocation_poll_interval": 0.05,
        "jwks_refetch_min_interval": 60,
        "leeway": 5,
        **overrides,
    }
    return Settings(**values)


class InProcessApi:
    """The app on its own event loop with its lifespan entered; requests via ASGITransport.

    Background tasks (JWKS refresh, feed polling) run whenever the loop runs: during a
    request or `sleep`.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._lifespan = app.router.lifespan_context(app)
        self.run(self._lifespan.__aenter__())
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url=AUDIENCE)

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.run(self.client.request(method, url, **kwargs))
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def sleep(self, seconds: float) -> None:
        self.run(asyncio.sleep(seconds))

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self._lifespan.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture
def api(database_url: str, fake_as: FakeAuthorizationServer) -> Iterator[InProcessApi]:
    """The app in-process, its lifespan running, talking to the fake authorization server."""
    client = InProcessApi(create_app(rs_settings(database_url), transport=fake_as.transport))
    yield client
    client.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def stack(
    databases: TestDatabases, logs_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """Both servers as real processes, one pair per test module."""
    stack = start_stack(databases, logs_dir, request.module.__name__.rsplit(".", 1)[-1])
    yield stack
    stack.stop()
