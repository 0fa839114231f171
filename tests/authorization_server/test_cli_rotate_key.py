"""`dropletbook-as rotate-key` against a running server: publish first, sign after the delay;
the JWKS is cached no longer than the server caches keys, and the delay outlasts both."""

import base64
import json
import os
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from services.authorization_server import cli
from services.authorization_server.context import ServerContext
from services.authorization_server.db import make_engine
from services.authorization_server.settings import Settings
from shared.jwt import unverified_header, verification_key, verify_jwt
from tests import factories
from tests.command_line import run_main
from tests.databases import TestDatabases
from tests.factories import as_environment, make_client
from tests.harness.authorization_server import start_in_process
from tests.harness.servers import LiveServer, free_port

ACTIVATION_DELAY = 5  # seconds: long enough to observe the pending key, short for the suite
KEY_CACHE_TTL = 0.2  # the server rereads keys this often


@pytest.fixture(scope="module")
def server(databases: TestDatabases, logs_dir: Path) -> Iterator[LiveServer]:
    port = free_port()
    settings = factories.test_settings(
        databases.new_url("cli"), issuer=f"http://127.0.0.1:{port}", key_cache_ttl=KEY_CACHE_TTL
    )
    server = LiveServer(
        "services.authorization_server.main:app",
        as_environment(settings),
        port=port,
        log=logs_dir / "as-cli-rotate-key.log",
    ).start()
    server.settings = settings  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def credentials(server: LiveServer) -> tuple[str, str]:
    settings = server.settings  # type: ignore[attr-defined]
    context = ServerContext.build(settings, make_engine(settings.database_url))
    try:
        client, secret = make_client(context, grant_types=("client_credentials",), redirect_uris=())
    finally:
        context.engine.dispose()
    assert secret
    return client.client_id, secret


def _rotate(server: LiveServer, delay: int) -> tuple[str, datetime]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AS_")},
        "AS_ENVIRONMENT": "development",
        "AS_DATABASE_URL": server.settings.database_url,  # type: ignore[attr-defined]
        "AS_KEY_ACTIVATION_DELAY": str(delay),
        "AS_KEY_CACHE_TTL": str(KEY_CACHE_TTL),  # the server's, as an operator would set it
    }
    done = run_main(cli.main, ["rotate-key"], env=env)
    assert done.returncode == 0, done.stderr
    match = re.fullmatch(
        r"database: (\S+)\nnew key (\S+) stored: running servers publish it within "
        r"(\S+) s \(AS_KEY_CACHE_TTL\); it signs from (\S+)\n",
        done.stdout,
    )
    assert match, done.stdout
    assert float(match[3]) == KEY_CACHE_TTL
    return match[2], datetime.fromisoformat(match[4])


def _jwks(server: LiveServer) -> dict[str, dict[str, str]]:
    """The access tokens' (ES256) keys; the ID tokens' RS256 chain rotates alongside."""
    keys = httpx.get(f"{server.url}/.well-known/jwks.json").json()["keys"]
    return {key["kid"]: key for key in keys if key["alg"] == "ES256"}


def _token(server: LiveServer, credentials: tuple[str, str]) -> str:
    response = httpx.post(
        f"{server.url}/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=credentials
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _issued_at(token: str) -> int:
    """The token's `iat` (read unverified: only to know which key should have signed it)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return int(claims["iat"])


def _verify_with_jwks(server: LiveServer, token: str) -> str:
    """Verify as a resource server would, with the key the JWKS publishes for the token's kid."""
    kid = unverified_header(token)["kid"]
    key = verification_key(_jwks(server)[kid], algorithms=("ES256",))
    settings = server.settings  # type: ignore[attr-defined]
    verify_jwt(token, key=key, issuer=settings.issuer, audience=settings.resource_audience)
    return str(kid)


def test_rotated_key_is_published_first_and_signs_after_the_delay(
    server: LiveServer, credentials: tuple[str, str]
) -> None:
    old = _verify_with_jwks(server, _token(server, credentials))
    new, signs_from = _rotate(server, ACTIVATION_DELAY)
    assert new != old

    deadline = time.monotonic() + 60  # a generous bound on the wait, not a budget
    while new not in _jwks(server):
        assert time.monotonic() < deadline, "the server did not pick up the new key"
        time.sleep(KEY_CACHE_TTL / 2)
    assert old in _jwks(server)

    before = _token(server, credentials)
    signer = _verify_with_jwks(server, before)
    # Which key should sign follows from the token's own `iat`, not from the test's clock:
    # on a busy machine the delay may be over by now, and then the new key rightly signs.
    issued, switch = _issued_at(before), signs_from.timestamp()
    if issued + 1 <= switch:
        assert signer == old  # published, not yet signing
    elif issued >= switch:
        assert signer == new
    # else: issued within the second of the switch, where either key is right

    time.sleep(max(0.0, signs_from.timestamp() - time.time()) + 0.05)
    after = _token(server, credentials)
    assert _verify_with_jwks(server, after) == new
    # The retired key stays published while the tokens it signed are alive.
    assert set(_jwks(server)) == {old, new}
    assert _verify_with_jwks(server, before) == signer


def test_zero_delay_signs_at_once(server: LiveServer, credentials: tuple[str, str]) -> None:
    new, _ = _rotate(server, 0)
    deadline = time.monotonic() + 60  # a generous bound on the wait, not a budget
    while _verify_with_jwks(server, _token(server, credentials)) != new:
        assert time.monotonic() < deadline, "the server did not start signing with the new key"
        time.sleep(KEY_CACHE_TTL / 2)
    assert new in _jwks(server)


@pytest.mark.parametrize(("key_cache_ttl", "max_age"), [(30.0, 30), (0.5, 0), (120.0, 120)])
def test_jwks_is_cached_no_longer_than_the_key_cache(
    database_url: str, key_cache_ttl: float, max_age: int
) -> None:
    """A reader sees a rotated key at most 2 x AS_KEY_CACHE_TTL after `rotate-key`."""
    settings = factories.test_settings(database_url, key_cache_ttl=key_cache_ttl)
    server = start_in_process(settings)
    try:
        response = server.browser().get("/.well-known/jwks.json")
    finally:
        server.close()
    assert response.status_code == 200
    assert response.headers["cache-control"] == f"public, max-age={max_age}"


@pytest.mark.parametrize(
    ("delay", "ttl", "valid"),
    [(3600, 30, True), (60, 30, True), (59, 30, False), (0, 30, True), (5, 0.2, True)],
)
def test_activation_delay_outlasts_the_caches(delay: int, ttl: float, valid: bool) -> None:
    """A key must be published (process cache, then JWKS max-age) before it signs; 0 is the
    explicit "sign at once" of an emergency rotation."""
    env = {"key_activation_delay": delay, "key_cache_ttl": ttl}
    if valid:
        Settings(environment="development", **env)  # type: ignore[arg-type]
    else:
        with pytest.raises(ValidationError, match="twice AS_KEY_CACHE_TTL"):
            Settings(environment="development", **env)  # type: ignore[arg-type]
