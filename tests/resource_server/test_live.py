"""Both servers as real processes: tokens from real grants, every bad token, revocation."""

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from services.authorization_server.models import Client
from shared.jwt import SigningKey, sign_jwt
from tests.factories import PASSWORD, make_client, make_user
from tests.harness.browser import Browser
from tests.resource_server.conftest import new_key, public_pem, unsigned_token
from tests.resource_server.live import Stack

pytestmark = pytest.mark.e2e

POLL_INTERVAL = 1.0  # RS_REVOCATION_POLL_INTERVAL of the stack
DROPLET = {"name": "web-1", "region": "ams3", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"}


@pytest.fixture(scope="module")
def service_app(stack: Stack) -> tuple[Client, str]:
    client, secret = make_client(
        stack.context, name="Ops app", grant_types=("client_credentials",), redirect_uris=()
    )
    assert secret is not None
    return client, secret


@pytest.fixture(scope="module")
def trusted_app(stack: Stack) -> tuple[Client, str]:
    client, secret = make_client(
        stack.context, name="Dropletbook", grant_types=("password", "refresh_token"), trusted=True
    )
    assert secret is not None
    return client, secret


def _password_token(
    stack: Stack, app: tuple[Client, str], email: str, scope: str = "read write"
) -> dict[str, Any]:
    form = {"grant_type": "password", "username": email, "password": PASSWORD, "scope": scope}
    return stack.token(form, *app)


def _new_user(stack: Stack) -> tuple[str, str]:
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    return make_user(stack.context, email=email).id, email


def test_client_credentials_token_reads_the_apps_service_account(
    stack: Stack, service_app: tuple[Client, str]
) -> None:
    client, _ = service_app
    token = stack.token({"grant_type": "client_credentials", "scope": "read"}, *service_app)
    response = stack.api("GET", "/v2/account", token["access_token"])
    assert response.status_code == 200, response.text
    account = response.json()["account"]
    assert account["kind"] == "service"
    assert account["client_id"] == client.client_id
    assert stack.api("GET", "/v2/droplets", token["access_token"]).json()["droplets"] == []


def test_token_for_the_apps_api_is_refused(stack: Stack, service_app: tuple[Client, str]) -> None:
    """RFC 8707: a token asked for the authorization server's own API is not for this one."""
    form = {
        "grant_type": "client_credentials",
        "scope": "read",
        "resource": stack.context.settings.apps_api_resource,
    }
    token = stack.token(form, *service_app)
    response = stack.api("GET", "/v2/account", token["access_token"])
    assert response.status_code == 401
    assert 'error_description="token audience invalid"' in response.headers["www-authenticate"]


def test_password_grant_tokens_with_scopes_and_isolation(
    stack: Stack, trusted_app: tuple[Client, str]
) -> None:
    alice_id, alice = _new_user(stack)
    _, bob = _new_user(stack)
    alice_token = _password_token(stack, trusted_app, alice)["access_token"]
    account = stack.api("GET", "/v2/account", alice_token).json()["account"]
    assert account["uuid"] == alice_id and account["kind"] == "user"

    created = stack.api("POST", "/v2/droplets", alice_token, json=DROPLET)
    assert created.status_code == 201, created.text
    droplet_id = created.json()["droplet"]["id"]

    read_only = _password_token(stack, trusted_app, alice, scope="read")["access_token"]
    assert stack.api("GET", f"/v2/droplets/{droplet_id}", read_only).status_code == 200
    refused = stack.api("DELETE", f"/v2/droplets/{droplet_id}", read_only)
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="dropletbook", error="insufficient_scope", '
        'error_description="the token lacks a required scope", scope="write"'
    )

    bob_token = _password_token(stack, trusted_app, bob)["access_token"]
    for method in ("GET", "DELETE"):
        response = stack.api(method, f"/v2/droplets/{droplet_id}", bob_token)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    assert stack.api("GET", "/v2/droplets", bob_token).json()["meta"] == {"total": 0}
    assert stack.api("DELETE", f"/v2/droplets/{droplet_id}", alice_token).status_code == 204


def test_refreshed_token_is_accepted(stack: Stack, trusted_app: tuple[Client, str]) -> None:
    _, email = _new_user(stack)
    first = _password_token(stack, trusted_app, email, scope="read")
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = stack.token(form, *trusted_app)
    assert second["access_token"] != first["access_token"]
    response = stack.api("GET", "/v2/account", second["access_token"])
    assert response.status_code == 200, response.text


def _claims(stack: Stack, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": stack.authorization.url,
        "sub": "forged-user",
        "aud": stack.resource.url,
        "client_id": "forged-app",
        "scope": "read write",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        **overrides,
    }
    return claims


def _signed(stack: Stack, key: SigningKey, typ: str = "at+jwt", **overrides: Any) -> str:
    return sign_jwt(_claims(stack, **overrides), key=key, typ=typ)


def _tampered(stack: Stack, key: SigningKey) -> str:
    header, _, signature = _signed(stack, key, scope="read").split(".")
    payload = _signed(stack, key, scope="read write").split(".")[1]
    return f"{header}.{payload}.{signature}"


def _now() -> int:
    """Read when a token is built: the suite can run for longer than these offsets."""
    return int(time.time())


# (token builder, error_description); the builders sign with the authorization server's own
# key unless the point is a key it never had.
FORGED: list[Any] = [
    pytest.param(
        lambda s, k: unsigned_token({"alg": "none", "typ": "at+jwt", "kid": k.kid}, _claims(s)),
        "token algorithm not accepted",
        id="alg-none",
    ),
    pytest.param(
        lambda s, k: unsigned_token(
            {"alg": "HS256", "typ": "at+jwt", "kid": k.kid}, _claims(s), secret=public_pem(k)
        ),
        "token algorithm not accepted",
        id="hs256-public-key-as-secret",
    ),
    pytest.param(_tampered, "token signature or format invalid", id="tampered-payload"),
    pytest.param(
        lambda s, k: _signed(s, replace(k, kid="no-such-kid")),
        "token signed with an unknown key",
        id="wrong-kid",
    ),
    pytest.param(
        lambda s, k: _signed(s, new_key(kid=k.kid)),
        "token signature or format invalid",
        id="other-key-same-kid",
    ),
    pytest.param(
        lambda s, k: _signed(s, k, iss="http://127.0.0.1:1"), "token issuer invalid", id="wrong-iss"
    ),
    pytest.param(
        lambda s, k: _signed(s, k, aud="http://other-api.example"),
        "token audience invalid",
        id="wrong-aud",
    ),
    pytest.param(
        lambda s, k: _signed(s, k, iat=_now() - 7200, exp=_now() - 3600),
        "token expired",
        id="expired",
    ),
    pytest.param(
        lambda s, k: _signed(s, k, nbf=_now() + 3600), "token not yet valid", id="not-yet-valid"
    ),
    pytest.param(lambda s, k: _signed(s, k, typ="JWT"), "token type is not at+jwt", id="typ-jwt"),
    pytest.param(lambda s, k: "not.a.jwt", "malformed token", id="malformed"),
]


@pytest.mark.parametrize(("build", "description"), FORGED)
def test_bad_tokens_get_the_exact_rfc6750_answer(
    stack: Stack, build: Callable[[Stack, SigningKey], str], description: str
) -> None:
    response = stack.api("GET", "/v2/account", build(stack, stack.signing_key()))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="dropletbook", error="invalid_token", error_description="{description}"'
    )
    assert response.json() == {"error": "invalid_token", "error_description": description}


def test_the_control_token_signed_the_same_way_is_accepted(stack: Stack) -> None:
    """The forged tokens above fail for their one defect, not for how the test signs."""
    response = stack.api("GET", "/v2/account", _signed(stack, stack.signing_key()))
    assert response.status_code == 200, response.text


def test_no_token_gets_a_bare_challenge(stack: Stack) -> None:
    response = stack.api("GET", "/v2/droplets")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="dropletbook"'
    assert response.json() == {}


def test_token_in_query_string_is_invalid_request(
    stack: Stack, service_app: tuple[Client, str]
) -> None:
    token = stack.token({"grant_type": "client_credentials", "scope": "read"}, *service_app)
    response = stack.api("GET", "/v2/account", params={"access_token": token["access_token"]})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def _refused_after_poll(stack: Stack, token: str) -> None:
    time.sleep(2 * POLL_INTERVAL + 0.5)  # one full interval after the next poll, with margin
    response = stack.api("GET", "/v2/account", token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="dropletbook", error="invalid_token", error_description="token revoked"'
    )


def test_rfc7009_revoked_access_token_is_refused(
    stack: Stack, service_app: tuple[Client, str]
) -> None:
    client, secret = service_app
    token = stack.token({"grant_type": "client_credentials", "scope": "read"}, *service_app)
    access = token["access_token"]
    assert stack.api("GET", "/v2/account", access).status_code == 200  # now in the token cache
    revoked = stack.token_endpoint_post("/v1/oauth/revoke", {"token": access}, client, secret)
    assert revoked.status_code == 200
    _refused_after_poll(stack, access)


def test_revoked_refresh_token_ends_its_access_tokens(
    stack: Stack, trusted_app: tuple[Client, str]
) -> None:
    client, secret = trusted_app
    _, email = _new_user(stack)
    token = _password_token(stack, trusted_app, email)
    assert stack.api("GET", "/v2/account", token["access_token"]).status_code == 200
    form = {"token": token["refresh_token"], "token_type_hint": "refresh_token"}
    assert stack.token_endpoint_post("/v1/oauth/revoke", form, client, secret).status_code == 200
    _refused_after_poll(stack, token["access_token"])


def test_reused_refresh_token_revokes_the_new_access_token(
    stack: Stack, trusted_app: tuple[Client, str]
) -> None:
    client, secret = trusted_app
    _, email = _new_user(stack)
    first = _password_token(stack, trusted_app, email)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = stack.token(form, *trusted_app)
    assert stack.api("GET", "/v2/account", second["access_token"]).status_code == 200
    # Within the grace window `first` would get `second` again; once `second` has been
    # used as well, presenting `first` is reuse.
    stack.token(form | {"refresh_token": second["refresh_token"]}, *trusted_app)
    replay = stack.token_endpoint_post("/v1/oauth/token", form, client, secret)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    _refused_after_poll(stack, second["access_token"])


def test_deleted_apps_client_credentials_tokens_are_refused(
    stack: Stack, service_app: tuple[Client, str]
) -> None:
    """Client-credentials tokens are recorded nowhere: the deleted client itself is revoked."""
    developer = make_user(stack.context, email=f"dev-{uuid.uuid4().hex[:10]}@example.com")
    client, secret = make_client(
        stack.context,
        name="Doomed app",
        grant_types=("client_credentials",),
        redirect_uris=(),
        owner=developer,
    )
    assert secret is not None
    app = (client, secret)
    form = {"grant_type": "client_credentials", "scope": "read"}
    seen = stack.token(form, *app)["access_token"]
    unseen = stack.token(form, *app)["access_token"]  # never presented before the deletion
    assert stack.api("GET", "/v2/account", seen).status_code == 200  # now in the token cache
    other = stack.token(form, *service_app)["access_token"]

    with Browser(stack.authorization.url) as portal:
        portal.sign_in(developer.email)
        path = f"/developer/apps/{client.client_id}"
        deleted = portal.submit(path, f"{path}/delete")
    assert deleted.status_code == 303, deleted.text

    _refused_after_poll(stack, seen)
    for token in (seen, unseen):
        response = stack.api("GET", "/v2/droplets", token)
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_token", "error_description": "token revoked"}
    assert stack.api("GET", "/v2/account", other).status_code == 200  # other apps unaffected


def test_rotating_the_secret_ends_the_apps_client_credentials_tokens_only(stack: Stack) -> None:
    """Issue 18: a rotated secret left its client-credentials tokens valid. They are JWTs
    recorded nowhere: the client's cut-off reaches the resource server through the feed,
    while the tokens of its users (`sub` = a user) keep working."""
    developer = make_user(stack.context, email=f"dev-{uuid.uuid4().hex[:10]}@example.com")
    client, secret = make_client(
        stack.context,
        name="Rotated app",
        grant_types=("password", "client_credentials"),
        redirect_uris=(),
        trusted=True,
        owner=developer,
    )
    assert secret is not None
    form = {"grant_type": "client_credentials", "scope": "read"}
    seen = stack.token(form, client, secret)["access_token"]
    unseen = stack.token(form, client, secret)["access_token"]
    assert stack.api("GET", "/v2/account", seen).status_code == 200  # now in the token cache
    _, email = _new_user(stack)
    users = _password_token(stack, (client, secret), email, "read")["access_token"]
    assert stack.api("GET", "/v2/account", users).status_code == 200

    with Browser(stack.authorization.url) as portal:
        portal.sign_in(developer.email)
        path = f"/developer/apps/{client.client_id}/rotate-secret"
        assert portal.submit(path, path).status_code == 303
        page = portal.get(f"/developer/apps/{client.client_id}").text
    start = page.index('id="client-secret">') + len('id="client-secret">')
    new_secret = page[start : page.index("<", start)]

    _refused_after_poll(stack, seen)
    for token in (seen, unseen):
        response = stack.api("GET", "/v2/droplets", token)
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_token", "error_description": "token revoked"}
    assert stack.api("GET", "/v2/account", users).status_code == 200  # the user's token stays

    paused = stack.token_endpoint_post("/v1/oauth/token", form, client, new_secret)
    if paused.status_code == 503:  # the second of the rotation (AS_CLIENT_CACHE_TTL 0)
        assert paused.json()["error"] == "temporarily_unavailable"
        time.sleep(int(paused.headers["retry-after"]))
    fresh = stack.token(form, client, new_secret)["access_token"]
    time.sleep(2 * POLL_INTERVAL)
    assert stack.api("GET", "/v2/account", fresh).status_code == 200
