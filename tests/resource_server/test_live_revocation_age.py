"""The revocation list's age across processes: the authorization server stopped and started."""

from pathlib import Path

import httpx
import pytest

from tests.databases import TestDatabases
from tests.factories import make_client
from tests.resource_server.live import Stack, start_stack, wait_for

pytestmark = pytest.mark.e2e

MAX_AGE = 3  # RS_MAX_REVOCATION_AGE; the stack polls every second
STALE = "revocation list is stale"


def _age(stack: Stack) -> float:
    response = stack.api("GET", "/healthz")
    assert response.status_code == 200  # liveness whatever the age
    age: float = response.json()["revocation_list_age"]
    return age


def _token(stack: Stack) -> str:
    client, secret = make_client(
        stack.context, name="Ops app", grant_types=("client_credentials",), redirect_uris=()
    )
    assert secret is not None
    access: str = stack.token(
        {"grant_type": "client_credentials", "scope": "read"}, client, secret
    )["access_token"]
    return access


@pytest.mark.parametrize("opted_in", [False, True], ids=["default", "max-age"])
def test_age_grows_while_the_feed_is_down_and_the_limit_refuses_tokens(
    databases: TestDatabases, logs_dir: Path, opted_in: bool
) -> None:
    overrides = {"RS_MAX_REVOCATION_AGE": str(MAX_AGE)} if opted_in else {}
    name = "max-age" if opted_in else "age"
    stack = start_stack(databases, logs_dir, name, rs_overrides=overrides)
    try:
        token = _token(stack)
        assert wait_for(lambda: _age(stack) < 1.5, timeout=60)
        assert stack.api("GET", "/v2/account", token).status_code == 200

        stack.authorization.stop()
        assert wait_for(lambda: _age(stack) > MAX_AGE + 2, timeout=30)
        assert wait_for(lambda: STALE in stack.resource.log_text(), timeout=60)
        response = stack.api("GET", "/v2/account", token)
        if opted_in:
            assert response.status_code == 503, response.text
            assert response.json() == {
                "error": "temporarily_unavailable",
                "error_description": "the revocation list is out of date; retry later",
            }
            assert response.headers["retry-after"] == str(MAX_AGE)
            assert "www-authenticate" not in response.headers  # the token is not at fault
            bad = stack.api("GET", "/v2/account", token[:-4] + "AAAA")
            assert bad.status_code == 401  # a bad token is still named bad
        else:
            assert response.status_code == 200, response.text

        stack.authorization.start()
        assert wait_for(lambda: _age(stack) < 1.5, timeout=30)
        assert stack.api("GET", "/v2/account", token).status_code == 200
    finally:
        stack.stop()
    log = stack.resource.log_text()
    assert log.count(STALE) == 1  # once for the stale period, not at every failed poll
    assert "revocation list fresh again" in log
    assert "Traceback" not in log


def test_healthz_has_no_age_without_a_feed(databases: TestDatabases, logs_dir: Path) -> None:
    stack = start_stack(
        databases,
        logs_dir,
        "no-feed",
        rs_overrides={"RS_FEED_CLIENT_ID": "", "RS_FEED_CLIENT_SECRET": ""},
    )
    try:
        body = httpx.get(f"{stack.resource.url}/healthz").json()
        assert body == {"status": "ok", "revocation_list_age": None}
    finally:
        stack.stop()
