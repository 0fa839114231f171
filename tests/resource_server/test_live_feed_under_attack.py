"""The resource server's revocation feed keeps working while strangers send wrong secrets
for its client id (issue 18, item 1): client ids are public, and a correct secret always
authenticates, so revocation still reaches the resource server within its poll interval.

Both servers as real processes; the attacker shares their address (loopback), the worst
case for a per-address limit.
"""

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import TestDatabases
from tests.factories import make_client
from tests.resource_server.live import Stack, start_stack, wait_for

pytestmark = pytest.mark.e2e

LIMITS = {"throttle_client_failures": 3, "throttle_ip_failures": 5}


@pytest.fixture
def stack(databases: TestDatabases, logs_dir: Path) -> Iterator[Stack]:
    stack = start_stack(databases, logs_dir, "feed-under-attack", as_overrides=LIMITS)
    yield stack
    stack.stop()


class Attacker:
    """Sends wrong secrets for a client id, to the feed and to introspection, until stopped."""

    def __init__(self, url: str, client_id: str) -> None:
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, client_id), daemon=True)
        self._thread.start()

    def _run(self, url: str, client_id: str) -> None:
        with httpx.Client(base_url=url, auth=(client_id, "guess"), timeout=30) as http:
            while not self._stop.is_set():
                self.statuses.append(http.get("/v1/oauth/revoked-tokens").status_code)
                introspect = http.post("/v1/oauth/introspect", data={"token": "x"})
                self.statuses.append(introspect.status_code)
                self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def test_revocation_reaches_the_resource_server_while_its_feed_client_is_attacked(
    stack: Stack,
) -> None:
    app, secret = make_client(
        stack.context, name="Ops app", grant_types=("client_credentials",), redirect_uris=()
    )
    assert secret
    access = stack.token({"grant_type": "client_credentials", "scope": "read"}, app, secret)
    token = access["access_token"]
    assert stack.api("GET", "/v2/account", token).status_code == 200
    attacker = Attacker(stack.authorization.url, stack.rs_env["RS_FEED_CLIENT_ID"])
    try:
        assert wait_for(lambda: 429 in attacker.statuses, timeout=60)  # locked out: the attacker
        form = {"token": token}
        revoked = stack.token_endpoint_post("/v1/oauth/revoke", form, app, secret)
        assert revoked.status_code == 200  # a correct secret from the attacked address too
        assert wait_for(
            lambda: stack.api("GET", "/v2/account", token).status_code == 401, timeout=60
        )
    finally:
        attacker.stop()
    assert set(attacker.statuses) <= {401, 429}
