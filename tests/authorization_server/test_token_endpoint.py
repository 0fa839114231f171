"""Token endpoint over HTTP (in-process), RFC 6749 §3.2, §5: every bad input gets its RFC error.

A refused request never answers 500 and never changes the database.
"""

import base64
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from tests.authorization_server.state import revoked_jtis, snapshot
from tests.factories import PASSWORD, VERIFIER, make_auth_code, make_client, make_user
from tests.harness.authorization_server import AuthorizationServer

REDIRECT_URI = "http://127.0.0.1:8080/callback"
BASIC_CHALLENGE = 'Basic realm="oauth", charset="UTF-8"'
FORM = {"content-type": "application/x-www-form-urlencoded"}


@dataclass
class World:
    server: AuthorizationServer
    context: ServerContext
    user: User
    app: Client  # confidential: authorization_code + refresh_token
    secret: str
    other: Client  # another confidential client
    other_secret: str
    public: Client
    service: Client  # client_credentials, scope read only
    service_secret: str
    trusted: Client  # password grant
    trusted_secret: str

    def code(self, client: Client | None = None, **kwargs: Any) -> str:
        return make_auth_code(self.context, client=client or self.app, user=self.user, **kwargs)

    def post(self, data: Any = None, **kwargs: Any) -> httpx.Response:
        return self.server.post("/v1/oauth/token", data=data, **kwargs)

    def code_form(self, code: str, **overrides: str) -> dict[str, str]:
        return {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": VERIFIER,
            **overrides,
        }

    def tokens(self, client: Client | None = None, scope: str = "read write") -> dict[str, Any]:
        client = client or self.app
        secret = self.secret if client is self.app else self.other_secret
        response = self.post(
            self.code_form(self.code(client, scope=scope)), auth=(client.client_id, secret)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def world(as_server: AuthorizationServer, as_context: ServerContext) -> World:
    ctx = as_context
    user = make_user(ctx)
    app, secret = make_client(ctx)
    other, other_secret = make_client(ctx, name="Other")
    public, _ = make_client(ctx, name="Public", client_type="public")
    service, service_secret = make_client(
        ctx, name="Service", grant_types=("client_credentials",), redirect_uris=(), scope="read"
    )
    trusted, trusted_secret = make_client(
        ctx, name="Trusted", grant_types=("password", "refresh_token"), trusted=True
    )
    assert secret and other_secret and service_secret and trusted_secret
    return World(
        as_server,
        ctx,
        user,
        app,
        secret,
        other,
        other_secret,
        public,
        service,
        service_secret,
        trusted,
        trusted_secret,
    )


def _assert_no_store(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


def _assert_token_response(
    response: httpx.Response, *, refresh: bool, info: bool
) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    _assert_no_store(response)
    body: dict[str, Any] = response.json()
    expected = {"access_token", "token_type", "expires_in", "scope"}
    expected |= {"refresh_token"} if refresh else set()
    expected |= {"info"} if info else set()
    assert set(body) == expected
    assert body["token_type"] == "bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    if info:
        assert set(body["info"]) == {"name", "email", "uuid"}
    return body


def test_authorization_code_with_basic(world: World) -> None:
    response = world.post(
        world.code_form(world.code(scope="read write")), auth=(world.app.client_id, world.secret)
    )
    body = _assert_token_response(response, refresh=True, info=True)
    assert body["scope"] == "read write"
    assert body["info"] == {"name": "Alice", "email": "alice@example.com", "uuid": world.user.id}


def test_authorization_code_with_secret_post(world: World) -> None:
    form = world.code_form(world.code()) | {
        "client_id": world.app.client_id,
        "client_secret": world.secret,
    }
    _assert_token_response(world.post(form), refresh=True, info=True)


def test_public_client_with_pkce(world: World) -> None:
    form = world.code_form(world.code(world.public)) | {"client_id": world.public.client_id}
    _assert_token_response(world.post(form), refresh=True, info=True)


def test_refresh_rotates(world: World) -> None:
    tokens = world.tokens()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "scope": "read",
    }
    body = _assert_token_response(
        world.post(form, auth=(world.app.client_id, world.secret)), refresh=True, info=True
    )
    assert body["scope"] == "read"
    assert body["refresh_token"] != tokens["refresh_token"]


def test_client_credentials(world: World) -> None:
    form = {"grant_type": "client_credentials"}
    body = _assert_token_response(
        world.post(form, auth=(world.service.client_id, world.service_secret)),
        refresh=False,
        info=False,
    )
    assert body["scope"] == "read"


def test_password(world: World) -> None:
    form = {"grant_type": "password", "username": "alice@example.com", "password": PASSWORD}
    _assert_token_response(
        world.post(form, auth=(world.trusted.client_id, world.trusted_secret)),
        refresh=True,
        info=True,
    )


def test_charset_in_content_type_is_accepted(world: World) -> None:
    response = world.post(
        content="grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded; charset=UTF-8"},
        auth=(world.service.client_id, world.service_secret),
    )
    assert response.status_code == 200, response.text


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"authorization": f"Basic {raw}"}


# Each case: the request built from the world (kwargs for httpx.post), then the expected
# status, error, whether a Basic challenge comes back, and a piece of error_description.
Case = Callable[[World], dict[str, Any]]
CASES: list[Any] = [
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code()) | {"grant_type": ""},
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "invalid_request",
        False,
        "missing parameter: grant_type",
        id="missing-grant_type",
    ),
    pytest.param(
        lambda w: {
            "content": "grant_type=client_credentials&grant_type=client_credentials",
            "headers": FORM,
            "auth": (w.service.client_id, w.service_secret),
        },
        400,
        "invalid_request",
        False,
        "'grant_type' repeated",
        id="repeated-grant_type",
    ),
    pytest.param(
        lambda w: {
            "content": f"grant_type=authorization_code&code={w.code()}&code={w.code()}"
            f"&redirect_uri={REDIRECT_URI}&code_verifier={VERIFIER}",
            "headers": FORM,
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "invalid_request",
        False,
        "'code' repeated",
        id="repeated-code",
    ),
    pytest.param(
        lambda w: {
            "content": f"grant_type=client_credentials&client_id={w.service.client_id}"
            f"&client_id={w.service.client_id}&client_secret={w.service_secret}",
            "headers": FORM,
        },
        400,
        "invalid_request",
        False,
        "'client_id' repeated",
        id="repeated-client_id",
    ),
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code()) | {"code": ""},
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "invalid_request",
        False,
        "missing parameter: code",
        id="missing-code",
    ),
    pytest.param(
        lambda w: {"data": w.code_form(w.code()), "auth": ("no-such-client", w.secret)},
        401,
        "invalid_client",
        True,
        "client authentication failed",
        id="unknown-client-basic",
    ),
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code()) | {"client_id": "no-such-client", "client_secret": "x"}
        },
        401,
        "invalid_client",
        False,
        "client authentication failed",
        id="unknown-client-post",
    ),
    pytest.param(
        lambda w: {"data": w.code_form(w.code()), "auth": (w.app.client_id, w.other_secret)},
        401,
        "invalid_client",
        True,
        "client authentication failed",
        id="wrong-secret-basic",
    ),
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code())
            | {"client_id": w.app.client_id, "client_secret": w.other_secret}
        },
        401,
        "invalid_client",
        False,
        "client authentication failed",
        id="wrong-secret-post",
    ),
    pytest.param(
        lambda w: {"data": w.code_form(w.code())},
        401,
        "invalid_client",
        True,
        "client authentication required",
        id="no-client-authentication",
    ),
    pytest.param(
        lambda w: {"data": w.code_form(w.code()) | {"client_id": w.app.client_id}},
        401,
        "invalid_client",
        True,
        "client authentication required",
        id="confidential-client-without-secret",
    ),
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code(w.public))
            | {"client_id": w.public.client_id, "client_secret": "guess"}
        },
        401,
        "invalid_client",
        False,
        "public clients do not authenticate",
        id="public-client-with-secret",
    ),
    pytest.param(
        lambda w: {"data": w.code_form(w.code()), "headers": {"authorization": "Basic %%%"}},
        401,
        "invalid_client",
        True,
        "malformed Basic credentials",
        id="malformed-basic",
    ),
    pytest.param(
        lambda w: {"data": w.code_form(w.code()), "headers": _basic("\x00", "x")},
        401,
        "invalid_client",
        True,
        "malformed Basic credentials",
        id="nul-in-basic",
    ),
    pytest.param(
        lambda w: {
            "data": {
                "grant_type": "client_credentials",
                "client_id": "a\x00b",
                "client_secret": "x",
            }
        },
        400,
        "invalid_request",
        False,
        "NUL",
        id="nul-in-client_id",
    ),
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code()),
            "auth": (w.app.client_id, w.secret),
            "params": {"client_secret": w.secret},
        },
        400,
        "invalid_request",
        False,
        "not the URL",
        id="secret-in-query-string",
    ),
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code()) | {"client_secret": w.secret},
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "invalid_request",
        False,
        "more than one client authentication method",
        id="two-authentication-methods",
    ),
    pytest.param(
        lambda w: {
            "data": {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"},
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "unsupported_grant_type",
        False,
        "is not supported",
        id="unsupported-grant-type",
    ),
    pytest.param(
        lambda w: {"data": {"grant_type": "implicit"}, "auth": (w.app.client_id, w.secret)},
        400,
        "unsupported_grant_type",
        False,
        "is not supported",
        id="implicit-at-token-endpoint",
    ),
    pytest.param(
        lambda w: {
            "data": {"grant_type": "client_credentials"},
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "unauthorized_client",
        False,
        "may not use the client_credentials grant",
        id="grant-not-registered",
    ),
    pytest.param(
        lambda w: {
            "data": {
                "grant_type": "password",
                "username": "alice@example.com",
                "password": PASSWORD,
            },
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "unauthorized_client",
        False,
        "may not use the password grant",
        id="password-for-untrusted-client",
    ),
    pytest.param(
        lambda w: {
            "data": {"grant_type": "client_credentials", "scope": "admin"},
            "auth": (w.service.client_id, w.service_secret),
        },
        400,
        "invalid_scope",
        False,
        "unknown scope: admin",
        id="unknown-scope",
    ),
    pytest.param(
        lambda w: {
            "data": {"grant_type": "client_credentials", "scope": "read write"},
            "auth": (w.service.client_id, w.service_secret),
        },
        400,
        "invalid_scope",
        False,
        "not allowed for this client: write",
        id="widened-scope",
    ),
    pytest.param(
        lambda w: {"data": w.code_form(w.code(ttl=-1)), "auth": (w.app.client_id, w.secret)},
        400,
        "invalid_grant",
        False,
        "expired",
        id="expired-code",
    ),
    pytest.param(
        lambda w: {"data": w.code_form(w.code()), "auth": (w.other.client_id, w.other_secret)},
        400,
        "invalid_grant",
        False,
        "authorization code invalid",
        id="code-of-another-client",
    ),
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code(), redirect_uri="http://127.0.0.1:8080/other"),
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "invalid_grant",
        False,
        "redirect_uri does not match",
        id="redirect_uri-mismatch",
    ),
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code(), code_verifier="x" * 43),
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "invalid_grant",
        False,
        "does not match code_challenge",
        id="pkce-verifier-mismatch",
    ),
    pytest.param(
        lambda w: {
            "data": w.code_form(w.code(), code_verifier=""),
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "invalid_grant",
        False,
        "code_verifier required",
        id="pkce-verifier-missing",
    ),
    pytest.param(
        lambda w: {
            "data": {"grant_type": "refresh_token", "refresh_token": w.tokens()["refresh_token"]},
            "auth": (w.other.client_id, w.other_secret),
        },
        400,
        "invalid_grant",
        False,
        "refresh token invalid",
        id="refresh-token-of-another-client",
    ),
    pytest.param(
        lambda w: {
            "data": {
                "grant_type": "refresh_token",
                "refresh_token": w.tokens(scope="read")["refresh_token"],
                "scope": "read write",
            },
            "auth": (w.app.client_id, w.secret),
        },
        400,
        "invalid_scope",
        False,
        "exceeds the scope originally granted",
        id="refresh-asking-more-scope",
    ),
    pytest.param(
        lambda w: {
            "json": {"grant_type": "client_credentials"},
            "auth": (w.service.client_id, w.service_secret),
        },
        400,
        "invalid_request",
        False,
        "content type must be",
        id="json-body",
    ),
    pytest.param(
        lambda w: {
            "files": {"grant_type": (None, "client_credentials")},
            "auth": (w.service.client_id, w.service_secret),
        },
        400,
        "invalid_request",
        False,
        "content type must be",
        id="multipart-body",
    ),
    pytest.param(
        lambda w: {
            "data": {"grant_type": "client_credentials", "padding": "x" * 20_000},
            "auth": (w.service.client_id, w.service_secret),
        },
        413,
        "invalid_request",
        False,
        "larger than",
        id="oversized-body",
    ),
    pytest.param(
        lambda w: {
            "content": iter([b"grant_type=client_credentials&padding=", b"x" * 20_000]),
            "headers": FORM,
            "auth": (w.service.client_id, w.service_secret),
        },
        413,
        "invalid_request",
        False,
        "larger than",
        id="oversized-chunked-body",
    ),
    pytest.param(
        lambda w: {
            "content": b"grant_type=client_credentials&scope=r\xe9ad",
            "headers": FORM,
            "auth": (w.service.client_id, w.service_secret),
        },
        400,
        "invalid_request",
        False,
        "not valid UTF-8",
        id="non-utf8-body",
    ),
    pytest.param(
        lambda w: {
            "content": "grant_type=client_credentials&scope=%FF",
            "headers": FORM,
            "auth": (w.service.client_id, w.service_secret),
        },
        400,
        "invalid_request",
        False,
        "not valid UTF-8",
        id="non-utf8-percent-encoded",
    ),
    pytest.param(
        lambda w: {
            "data": {
                "grant_type": "password",
                "username": "alice@example.com\x00",
                "password": PASSWORD,
            },
            "auth": (w.trusted.client_id, w.trusted_secret),
        },
        400,
        "invalid_request",
        False,
        "NUL",
        id="nul-in-username",
    ),
]


@pytest.mark.parametrize(("build", "status", "error", "challenge", "hint"), CASES)
def test_bad_requests(
    world: World, build: Case, status: int, error: str, challenge: bool, hint: str
) -> None:
    request = build(world)
    before = snapshot(world.context.engine)
    response = world.post(**request)
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert hint in response.json()["error_description"]
    if challenge:
        assert response.headers["www-authenticate"] == BASIC_CHALLENGE
    else:
        assert "www-authenticate" not in response.headers
    _assert_no_store(response)
    assert snapshot(world.context.engine) == before


def test_replayed_code_is_refused_and_revokes_its_tokens(world: World) -> None:
    code = world.code()
    auth = (world.app.client_id, world.secret)
    first = world.post(world.code_form(code), auth=auth)
    assert first.status_code == 200
    replay = world.post(world.code_form(code), auth=auth)
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    _assert_no_store(replay)
    refresh = world.post(
        {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]}, auth=auth
    )
    assert (refresh.status_code, refresh.json()["error"]) == (400, "invalid_grant")
    assert revoked_jtis(world.context.engine)


def test_get_is_not_allowed(world: World) -> None:
    response = world.server.get("/v1/oauth/token")
    assert response.status_code == 405


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("grant_type=caf%C3%A9%22%5C", id="unsupported-grant_type"),
        pytest.param("caf%C3%A9%22=1&caf%C3%A9%22=2&grant_type=client_credentials", id="repeated"),
    ],
)
def test_error_description_never_echoes_unsafe_characters(world: World, content: str) -> None:
    """RFC 6749 §5.2 limits error_description to printable ASCII without `"` and `\\`."""
    response = world.post(content=content, headers=FORM, auth=(world.app.client_id, world.secret))
    assert response.status_code == 400
    description = response.json()["error_description"]
    assert re.fullmatch(r"[\x20\x21\x23-\x5B\x5D-\x7E]+", description), description


def test_concurrent_redemptions_have_one_winner(world: World) -> None:
    """A code redeemed by many requests at once yields one token response; a refresh token,
    one successor (the others get it again within the reuse grace window)."""
    auth = (world.app.client_id, world.secret)
    code_form = world.code_form(world.code())
    refresh_form = {"grant_type": "refresh_token", "refresh_token": world.tokens()["refresh_token"]}
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda f: world.post(f, auth=auth), [code_form] * 8))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [400] * 7, statuses
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda f: world.post(f, auth=auth), [refresh_form] * 8))
    assert [r.status_code for r in responses] == [200] * 8
    assert len({r.json()["refresh_token"] for r in responses}) == 1


def test_errors_are_json_even_for_browsers(world: World) -> None:
    response = world.post({"grant_type": "password"}, headers={"accept": "text/html"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "invalid_client"
