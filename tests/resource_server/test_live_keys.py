"""Keys across processes: the authorization server down, and key rotation with refetch limits."""

import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from services.authorization_server import cli
from shared.jwt import sign_jwt
from tests.command_line import run_main
from tests.databases import TestDatabases
from tests.factories import make_client
from tests.resource_server.conftest import new_key
from tests.resource_server.live import CountingProxy, Stack, kid_of, start_stack, wait_for

pytestmark = pytest.mark.e2e

JWKS = "/.well-known/jwks.json"
UNKNOWN_KEY = (
    'Bearer realm="dropletbook", error="invalid_token", '
    'error_description="token signed with an unknown key"'
)


def _client_credentials_token(stack: Stack) -> str:
    client, secret = make_client(
        stack.context, name="Ops app", grant_types=("client_credentials",), redirect_uris=()
    )
    assert secret is not None
    form = {"grant_type": "client_credentials", "scope": "read"}
    access: str = stack.token(form, client, secret)["access_token"]
    return access


def _forged(stack: Stack, kid: str) -> str:
    """A well-formed token signed by a key the authorization server never had."""
    now = int(time.time())
    claims = {
        "iss": stack.authorization.url,
        "sub": "x",
        "aud": stack.resource.url,
        "client_id": "x",
        "scope": "read",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    return sign_jwt(claims, key=new_key(kid=kid))


@pytest.fixture
def proxy() -> Iterator[CountingProxy]:
    proxy = CountingProxy()
    yield proxy
    proxy.close()


def test_tokens_keep_verifying_while_the_authorization_server_is_down(
    databases: TestDatabases, logs_dir: Path
) -> None:
    stack = start_stack(databases, logs_dir, "as-down")
    try:
        seen, unseen = _client_credentials_token(stack), _client_credentials_token(stack)
        assert stack.api("GET", "/v2/account", seen).status_code == 200
        stack.authorization.stop()
        assert not stack.authorization.running
        for token in (seen, unseen):  # from the token cache, and verified with cached keys
            response = stack.api("GET", "/v2/account", token)
            assert response.status_code == 200, response.text
        refused = stack.api("GET", "/v2/account", _forged(stack, "never-seen"))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == UNKNOWN_KEY
        time.sleep(1.5)  # a failed revocation poll in between changes nothing
        assert stack.api("GET", "/v2/account", unseen).status_code == 200
        assert stack.api("GET", "/healthz").status_code == 200
    finally:
        stack.stop()
    assert "Traceback" not in stack.resource.log_text()


def test_rotated_key_is_accepted_after_one_rate_limited_refetch(
    databases: TestDatabases, logs_dir: Path, proxy: CountingProxy
) -> None:
    interval = 10.0  # the burst below mostly falls inside it; the checks hold either way
    stack = start_stack(
        databases,
        logs_dir,
        "rotation",
        as_overrides={"key_cache_ttl": 0.3},
        rs_overrides={
            "RS_JWKS_REFETCH_MIN_INTERVAL": str(interval),
            "RS_JWKS_REFRESH_INTERVAL": "3600",  # only unknown kids cause fetches here
        },
        internal_url=proxy,  # the RS fetches through the proxy, which counts
    )
    try:
        old = _client_credentials_token(stack)
        assert stack.api("GET", "/v2/account", old).status_code == 200
        assert proxy.count(JWKS) == 1  # at start-up
        started = time.monotonic()

        env = {
            **os.environ,
            "AS_ENVIRONMENT": "development",  # the test's placeholder secrets are refused else
            "AS_DATABASE_URL": stack.database_url,
            "AS_KEY_ACTIVATION_DELAY": "0",
        }
        rotated = run_main(cli.main, ["rotate-key"], env=env)
        assert rotated.returncode == 0, rotated.stderr
        assert wait_for(lambda: kid_of(_client_credentials_token(stack)) != kid_of(old), timeout=60)
        new = _client_credentials_token(stack)

        time.sleep(max(0.0, interval - (time.monotonic() - started)) + 0.2)
        refetching = time.monotonic()  # the refetch below happens after this
        response = stack.api("GET", "/v2/account", new)
        assert response.status_code == 200, response.text
        assert proxy.count(JWKS) == 2  # exactly one refetch, for the unknown kid
        assert stack.api("GET", "/v2/account", old).status_code == 200  # old key still published

        def send(n: int) -> httpx.Response:
            return stack.api("GET", "/v2/account", _forged(stack, f"forged-{n}"))

        with ThreadPoolExecutor(max_workers=8) as pool:
            burst = list(pool.map(send, range(40)))
        assert [r.status_code for r in burst] == [401] * 40
        assert all(r.headers["www-authenticate"] == UNKNOWN_KEY for r in burst)
        # At most one fetch per interval for 40 bad kids: none while the burst falls inside
        # the interval (as it does unless the machine is very busy), whatever it took.
        intervals_since = int((time.monotonic() - refetching) // interval)
        after_burst = proxy.count(JWKS)
        assert 2 <= after_burst <= 2 + intervals_since

        time.sleep(interval + 0.2)  # since the last fetch, which came before this
        assert send(99).status_code == 401
        assert proxy.count(JWKS) == after_burst + 1  # once the interval has passed, one again
        assert stack.api("GET", "/v2/account", new).status_code == 200
    finally:
        stack.stop()
