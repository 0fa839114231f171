"""Every credential check is throttled (issue 8, item 3; issue 18): 429 with `Retry-After`
over the limit, lockouts that grow and refuse even the right password, and never lock out
the people and clients they protect (device cookies, client secrets that always pass).

Each test runs on both stores (memory, and the real Redis under a unique key prefix).
"""

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.authorization_server.settings import Settings
from tests.authorization_server.throttle_stores import STORES, assert_retry_after, unique_prefix
from tests.factories import PASSWORD, make_client, make_user, test_settings
from tests.harness.authorization_server import AuthorizationServer, start_in_process
from tests.harness.browser import Browser
from tests.harness.servers import free_port

INITIAL_TOKEN = "initial-access-token-for-tests"
LIMITS: dict[str, Any] = {
    "throttle_account_failures": 3,
    "throttle_client_failures": 3,
    "throttle_ip_failures": 5,
    "throttle_lockout_base": 60,
    "throttle_lockout_max": 600,
    "throttle_signup_ip_rate": "3/hour",
    "throttle_signup_email_rate": "2/hour",
    "throttle_registration_ip_rate": "3/hour",
    "throttle_registration_token_rate": "5/minute",
    "registration_access_token": SecretStr(INITIAL_TOKEN),
}


def throttled_settings(database_url: str, redis_url: str | None, **overrides: Any) -> Settings:
    values = {**LIMITS, "redis_url": redis_url, "throttle_key_prefix": unique_prefix()}
    return test_settings(database_url, **{**values, **overrides})


@pytest.fixture(params=STORES)
def redis_url(request: pytest.FixtureRequest) -> str | None:
    url: str | None = request.param
    return url


@pytest.fixture
def server(database_url: str, redis_url: str | None) -> Iterator[AuthorizationServer]:
    server = start_in_process(throttled_settings(database_url, redis_url))
    yield server
    server.close()


_test_started = 0.0  # every lock and window a test meets began after this


@pytest.fixture(autouse=True)
def _note_the_start() -> None:
    global _test_started
    _test_started = time.monotonic()


def assert_too_many_page(
    response: httpx.Response, retry_after: int = 60, *, since: float | None = None
) -> None:
    assert response.status_code == 429, response.text
    assert "Too many attempts" in response.text
    assert response.headers["content-type"].startswith("text/html")
    since = _test_started if since is None else since
    assert_retry_after(response.headers["retry-after"], limit=retry_after, since=since)


def assert_too_many_json(response: httpx.Response, retry_after: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "invalid_request"
    assert "too many attempts" in response.json()["error_description"]
    assert_retry_after(response.headers["retry-after"], limit=retry_after, since=_test_started)


# --- the login form ----------------------------------------------------------------------


def test_login_locks_the_account_and_then_refuses_the_right_password(
    server: AuthorizationServer,
) -> None:
    user = make_user(server.context)
    attacker = server.browser(ip="203.0.113.1")
    for n in range(3):
        assert attacker.login(user.email, f"wrong password {n}").status_code == 400
    assert_too_many_page(attacker.login(user.email, "wrong password 3"))
    assert_too_many_page(attacker.login(user.email, PASSWORD))
    # Locked, from any address, for every browser the account never signed in from.
    assert_too_many_page(server.browser(ip="192.0.2.9").login(user.email.upper(), PASSWORD))


def test_a_lockout_is_waited_out_no_faster_than_the_policy(database_url: str) -> None:
    settings = throttled_settings(database_url, None, throttle_lockout_base=1)
    server = start_in_process(settings)
    try:
        user = make_user(server.context)
        visitor = server.browser()
        for n in range(3):
            visitor.login(user.email, f"wrong password {n}")
        assert_too_many_page(visitor.login(user.email, "wrong password 3"), retry_after=1)
        assert_too_many_page(visitor.login(user.email, PASSWORD), retry_after=1)
        time.sleep(1.1)  # the 1 s lock began before the request above answered
        # The next failure doubles the lockout; the right password waits it out in full.
        locking = time.monotonic()
        doubled = visitor.login(user.email, "wrong password 4")
        assert_too_many_page(doubled, retry_after=2, since=locking)
        # No clock budget: poll (generously bounded) until the right password passes; it
        # must not pass before the 2 s lock is over, however slow the machine.
        deadline = time.monotonic() + 60
        while (answer := visitor.login(user.email, PASSWORD)).status_code == 429:
            assert time.monotonic() < deadline, "the lockout never ended"
            time.sleep(0.2)
        assert answer.status_code == 303, answer.text
        assert time.monotonic() - locking >= 2 - 0.1, "let in before the lockout was over"
    finally:
        server.close()


def test_the_ip_budget_spans_accounts_and_survives_a_successful_login(
    server: AuthorizationServer,
) -> None:
    user = make_user(server.context)
    sprayer = server.browser(ip="203.0.113.2")
    for n in range(5):  # one wrong password each for five accounts: no account lockout
        assert sprayer.login(f"victim{n}@example.com", "Winter2026!").status_code == 400
    assert sprayer.login(user.email, PASSWORD).status_code == 303  # resets nothing
    same_ip = server.browser(ip="203.0.113.2")
    assert_too_many_page(same_ip.login("victim9@example.com", "Winter2026!"))
    assert_too_many_page(same_ip.login(user.email, PASSWORD))
    assert server.browser(ip="192.0.2.10").login(user.email, PASSWORD).status_code == 303


def test_a_successful_login_forgets_the_account_failures(server: AuthorizationServer) -> None:
    user = make_user(server.context)
    visitor = server.browser()
    for n in range(2):
        visitor.login(user.email, f"wrong password {n}")
    assert visitor.login(user.email, PASSWORD).status_code == 303
    other = server.browser(ip="192.0.2.11")
    for n in range(3):
        assert other.login(user.email, f"wrong password {n}").status_code == 400


# --- the token endpoint ------------------------------------------------------------------


def _password_grant(visitor: Browser, client_id: str, secret: str, password: str) -> Any:
    return visitor.post(
        "/v1/oauth/token",
        data={"grant_type": "password", "username": "alice@example.com", "password": password},
        auth=(client_id, secret),
    )


def test_password_grant_is_counted_per_account_and_address(server: AuthorizationServer) -> None:
    make_user(server.context)
    client, secret = make_client(server.context, grant_types=("password",), trusted=True)
    assert secret
    visitor, elsewhere = server.browser(ip="203.0.113.8"), server.browser(ip="192.0.2.13")
    for n in range(3):
        answer = _password_grant(visitor, client.client_id, secret, f"wrong password {n}")
        assert answer.json()["error"] == "invalid_grant"
    assert_too_many_json(_password_grant(visitor, client.client_id, secret, "wrong password 3"))
    locked = _password_grant(visitor, client.client_id, secret, PASSWORD)
    assert_too_many_json(locked)
    assert locked.headers["cache-control"] == "no-store"
    # The app's user elsewhere is not locked out by a stranger's guesses, nor is the form.
    assert _password_grant(elsewhere, client.client_id, secret, PASSWORD).status_code == 200
    assert server.browser(ip="192.0.2.14").login("alice@example.com", PASSWORD).status_code == 303


def _client_call(visitor: Browser, endpoint: str, client_id: str, secret: str) -> Any:
    auth = (client_id, secret)
    if endpoint == "feed":
        return visitor.get("/v1/oauth/revoked-tokens", auth=auth)
    if endpoint == "token":
        return visitor.post("/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)
    return visitor.post(f"/v1/oauth/{endpoint}", data={"token": "x"}, auth=auth)


@pytest.mark.parametrize("endpoint", ["token", "revoke", "introspect", "feed"])
def test_client_authentication_failures_are_throttled_and_never_lock_the_client_out(
    database_url: str, redis_url: str | None, endpoint: str
) -> None:
    server = start_in_process(throttled_settings(database_url, redis_url))
    try:
        client, secret = make_client(
            server.context, grant_types=("client_credentials",), redirect_uris=()
        )
        assert secret
        server.context.settings.revocation_feed_clients.append(client.client_id)
        visitor = server.browser(ip="203.0.113.9")
        assert _client_call(visitor, endpoint, client.client_id, secret).status_code == 200
        for _ in range(3):
            answer = _client_call(visitor, endpoint, client.client_id, "wrong secret")
            assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")
        for _ in range(3):  # over the budget of the client_id from this address: 429
            assert_too_many_json(_client_call(visitor, endpoint, client.client_id, "wrong"))
        # The correct secret still authenticates, from that address and from any other:
        # client ids are public, so a stranger's failures must never lock the client out.
        assert _client_call(visitor, endpoint, client.client_id, secret).status_code == 200
        owner = server.browser(ip="192.0.2.15")
        assert _client_call(owner, endpoint, client.client_id, secret).status_code == 200
        answer = _client_call(owner, endpoint, client.client_id, "wrong secret")
        assert answer.status_code == 401  # failures elsewhere are counted elsewhere
    finally:
        server.close()


def test_client_secret_spraying_locks_the_ip(server: AuthorizationServer) -> None:
    visitor = server.browser(ip="203.0.113.3")
    for n in range(5):
        answer = _client_call(visitor, "token", f"client-{n}", "guess")
        assert answer.status_code == 401
    assert_too_many_json(_client_call(visitor, "token", "client-9", "guess"))


def test_successful_client_credentials_never_touch_the_shared_store(
    server: AuthorizationServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, secret = make_client(
        server.context, grant_types=("client_credentials",), redirect_uris=()
    )
    assert secret
    store = server.context.throttle._store
    calls: list[str] = []
    for name in ("reserve", "settle", "locked_for", "hit"):
        original = getattr(store, name)

        async def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
            calls.append(_name)
            return await _original(*args)

        monkeypatch.setattr(store, name, counted)
    visitor = server.browser()
    for _ in range(20):
        assert _client_call(visitor, "token", client.client_id, secret).status_code == 200
    assert calls == []
    _client_call(visitor, "token", client.client_id, "wrong secret")
    assert calls == ["reserve"]  # a failure: one round trip, counted per address and client


# --- sign-up, registration and consent ---------------------------------------------------


def _signup(visitor: Browser, email: str) -> httpx.Response:
    fields = {"email": email, "password": PASSWORD, "name": "New"}
    return visitor.submit("/signup", "/signup", fields)


def test_signup_counts_every_attempt_per_ip_and_per_email(server: AuthorizationServer) -> None:
    visitor = server.browser(ip="203.0.113.4")
    for n in range(3):
        assert _signup(visitor, f"new{n}@example.com").status_code == 303
    assert_too_many_page(_signup(visitor, "new9@example.com"), retry_after=3600)
    # One address gets at most two mails an hour, whoever asks.
    for n in range(2):
        assert _signup(server.browser(ip=f"192.0.2.{n}"), "target@example.com").status_code == 303
    refused = _signup(server.browser(ip="192.0.2.99"), "TARGET@example.com")
    assert_too_many_page(refused, retry_after=3600)


def _register(visitor: Browser, token: str) -> httpx.Response:
    metadata = {"client_name": "Bot", "redirect_uris": ["https://bot.example/cb"]}
    headers = {"authorization": f"Bearer {token}"}
    return visitor.post("/v1/oauth/register", json=metadata, headers=headers)


def test_registration_with_the_initial_access_token_has_its_own_budget(
    server: AuthorizationServer,
) -> None:
    """A CI job registering its test clients from one address is not limited per address
    (3/hour here), only per token (5/minute here), and is told to wait a minute at most."""
    visitor = server.browser(ip="203.0.113.5")
    for _ in range(5):
        assert _register(visitor, INITIAL_TOKEN).status_code == 201
    refused = _register(server.browser(ip="192.0.2.12"), INITIAL_TOKEN)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_open_registration_counts_every_attempt_per_ip(
    database_url: str, redis_url: str | None
) -> None:
    settings = throttled_settings(database_url, redis_url, open_registration=True)
    server = start_in_process(settings)
    try:
        visitor = server.browser(ip="203.0.113.5")
        for _ in range(3):
            assert _register(visitor, "no token needed").status_code == 201
        assert_too_many_json(_register(visitor, "no token needed"), retry_after=3600)
        assert _register(server.browser(ip="192.0.2.12"), "").status_code == 201
        # The initial access token still has its own budget on an open server.
        assert _register(visitor, INITIAL_TOKEN).status_code == 201
    finally:
        server.close()


def test_wrong_initial_access_tokens_lock_the_ip_but_never_the_token(
    database_url: str, redis_url: str | None
) -> None:
    settings = throttled_settings(database_url, redis_url, throttle_registration_ip_rate="100/hour")
    server = start_in_process(settings)
    try:
        visitor = server.browser(ip="203.0.113.6")
        for _ in range(5):
            assert _register(visitor, "guess").status_code == 401
        assert_too_many_json(_register(visitor, "guess"))
        assert _register(visitor, INITIAL_TOKEN).status_code == 201
    finally:
        server.close()


def test_consent_posts_with_bad_csrf_lock_the_ip(server: AuthorizationServer) -> None:
    """A logged-in browser posting forged consent decisions (the token is session-bound)."""
    user = make_user(server.context)
    client, _ = make_client(server.context)
    visitor = server.browser(ip="203.0.113.7")
    assert visitor.login(user.email, PASSWORD).status_code == 303
    form = {
        "csrf_token": "forged",
        "decision": "approve",
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "scope": "read",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    for _ in range(5):
        assert visitor.post("/v1/oauth/authorize/decision", data=form).status_code == 403
    assert_too_many_page(visitor.post("/v1/oauth/authorize/decision", data=form))


def test_without_its_redis_the_server_fails_closed_but_keeps_issuing_client_tokens(
    database_url: str,
) -> None:
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    server = start_in_process(throttled_settings(database_url, unreachable))
    try:
        user = make_user(server.context)
        client, secret = make_client(
            server.context, grant_types=("client_credentials",), redirect_uris=()
        )
        assert secret
        visitor = server.browser()
        assert _client_call(visitor, "token", client.client_id, secret).status_code == 200
        refused = _client_call(visitor, "token", client.client_id, "wrong secret")
        assert (refused.status_code, refused.json()["error"]) == (503, "temporarily_unavailable")
        assert refused.headers["retry-after"] == "5"
        page = visitor.submit("/login", "/login", {"email": user.email, "password": PASSWORD})
        assert page.status_code == 503  # no unthrottled password checks
    finally:
        server.close()
