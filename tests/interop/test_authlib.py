"""Authlib's OAuth 2 clients (requests and httpx flavours) against a live server."""

import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749 import MismatchingStateException
from sqlmodel import Session

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from services.authorization_server.settings import Settings
from tests.factories import make_client
from tests.harness.forms import fragment_of, query_of
from tests.interop.conftest import REDIRECT_URI
from tests.interop.helpers import (
    TestUser,
    TokenVerifier,
    apps_api_resource,
    assert_user_info,
    assert_user_tokens,
    authorize_in_browser,
    keep_token_responses,
    trusted_client,
)

# Authlib 1.9 announces a move to the `httpx2` package (not installed here); the `httpx`
# integration it deprecates is still the one this project's users have.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

AuthlibClient = OAuth2Session | OAuth2Client
Factory = Callable[..., AuthlibClient]


@pytest.fixture(params=["requests", "httpx"])
def oauth(request: pytest.FixtureRequest, metadata: dict[str, Any]) -> Iterator[Factory]:
    """Build Authlib clients of one flavour, configured with the discovered token endpoint."""
    made: list[AuthlibClient] = []

    def factory(**kwargs: Any) -> AuthlibClient:
        kwargs.setdefault("token_endpoint", metadata["token_endpoint"])
        client: AuthlibClient
        if request.param == "requests":
            client = OAuth2Session(**kwargs)
        else:
            client = OAuth2Client(timeout=10, **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def _sent_body(response: Any) -> str:
    request = response.request
    body = request.body if hasattr(request, "body") else request.content
    return body.decode() if isinstance(body, bytes) else str(body or "")


def _introspect(
    client: AuthlibClient, metadata: dict[str, Any], token: str, hint: str | None = None
) -> dict[str, Any]:
    response = client.introspect_token(
        metadata["introspection_endpoint"], token=token, token_type_hint=hint
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


# --- client credentials ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials(
    oauth: Factory,
    live_context: ServerContext,
    metadata: dict[str, Any],
    verifier: TokenVerifier,
    method: str,
) -> None:
    client, secret = make_client(
        live_context, grant_types=("client_credentials",), redirect_uris=()
    )
    session = oauth(
        client_id=client.client_id,
        client_secret=secret,
        token_endpoint_auth_method=method,
        scope="read",
    )
    responses = keep_token_responses(session)

    token = session.fetch_token(grant_type="client_credentials")

    assert token["token_type"].lower() == "bearer"
    assert token["scope"] == "read"
    assert token["expires_in"] > 0
    assert "refresh_token" not in token  # RFC 6749 §4.4.3
    assert "info" not in token
    verifier.verify(
        token["access_token"], subject=client.client_id, client_id=client.client_id, scope="read"
    )
    [response] = responses
    assert response.headers["cache-control"] == "no-store"
    sent_basic = "authorization" in {name.lower() for name in response.request.headers}
    assert sent_basic == (method == "client_secret_basic")
    assert ("client_secret=" in _sent_body(response)) == (method == "client_secret_post")


def test_client_credentials_wrong_secret_is_invalid_client(
    oauth: Factory, live_context: ServerContext
) -> None:
    client, _ = make_client(live_context, grant_types=("client_credentials",), redirect_uris=())
    session = oauth(client_id=client.client_id, client_secret="not-the-secret")
    with pytest.raises(OAuthError) as caught:
        session.fetch_token(grant_type="client_credentials")
    assert caught.value.error == "invalid_client"


def test_client_credentials_for_the_app_api(
    oauth: Factory, live_context: ServerContext, metadata: dict[str, Any]
) -> None:
    """RFC 8707: `resource` goes as an extra token parameter; only that token is accepted
    by `/v1/apps/self`, a token for the default audience (the cloud API) is not."""
    client, secret = make_client(
        live_context, grant_types=("client_credentials",), redirect_uris=()
    )
    session = oauth(client_id=client.client_id, client_secret=secret, scope="read")
    session.fetch_token(grant_type="client_credentials", resource=apps_api_resource(metadata))
    response = session.get(metadata["app_self_endpoint"])
    assert response.status_code == 200, response.text
    assert response.json()["client_id"] == client.client_id

    cloud = oauth(client_id=client.client_id, client_secret=secret, scope="read")
    cloud.fetch_token(grant_type="client_credentials")
    refused = cloud.get(metadata["app_self_endpoint"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert refused.headers["www-authenticate"].startswith("Bearer ")

    with pytest.raises(OAuthError) as caught:
        session.fetch_token(grant_type="client_credentials", resource="https://other.example")
    assert caught.value.error == "invalid_target"


# --- resource owner password credentials -------------------------------------------------


def test_password_grant_for_trusted_client(
    oauth: Factory,
    live_context: ServerContext,
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    client, secret = trusted_client(live_context)
    session = oauth(client_id=client.client_id, client_secret=secret, scope="read write")

    token = session.fetch_token(username=user.email, password=user.password)

    assert sorted(token["scope"].split()) == ["read", "write"]
    assert_user_tokens(token, user=user, client_id=client.client_id, verifier=verifier)


def test_password_grant_wrong_password_is_invalid_grant(
    oauth: Factory, live_context: ServerContext, user: TestUser
) -> None:
    client, secret = trusted_client(live_context)
    session = oauth(client_id=client.client_id, client_secret=secret)
    with pytest.raises(OAuthError) as caught:
        session.fetch_token(username=user.email, password="wrong " + user.password)
    assert caught.value.error == "invalid_grant"


def test_password_grant_refused_to_client_without_it(
    oauth: Factory, live_context: ServerContext, user: TestUser
) -> None:
    client, secret = make_client(live_context)  # authorization_code + refresh_token, untrusted
    session = oauth(client_id=client.client_id, client_secret=secret)
    with pytest.raises(OAuthError) as caught:
        session.fetch_token(username=user.email, password=user.password)
    assert caught.value.error == "unauthorized_client"


def test_password_grant_refused_once_client_is_no_longer_trusted(
    oauth: Factory, live_context: ServerContext, user: TestUser
) -> None:
    client, secret = trusted_client(live_context)
    with Session(live_context.engine) as db:
        stored = db.get(Client, client.client_id)
        assert stored is not None
        stored.trusted = False
        db.add(stored)
        db.commit()
    session = oauth(client_id=client.client_id, client_secret=secret)
    with pytest.raises(OAuthError) as caught:
        session.fetch_token(username=user.email, password=user.password)
    assert caught.value.error == "unauthorized_client"


# --- refresh tokens ----------------------------------------------------------------------


def test_refresh_token_rotates_and_reuse_revokes_the_grant(
    oauth: Factory,
    live_context: ServerContext,
    metadata: dict[str, Any],
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    client, secret = trusted_client(live_context)
    session = oauth(client_id=client.client_id, client_secret=secret, scope="read write")
    first = dict(session.fetch_token(username=user.email, password=user.password))
    responses = keep_token_responses(session)

    second = dict(session.refresh_token())

    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert sorted(second["scope"].split()) == ["read", "write"]
    assert_user_info(second, user_id=user.id, email=user.email, name=user.name)
    verifier.verify(
        second["access_token"], subject=user.id, client_id=client.client_id, scope="read write"
    )
    assert responses[-1].headers["cache-control"] == "no-store"

    # Within the grace window `first` would get `second` again; once `second` has been
    # used as well, presenting `first` is reuse.
    third = dict(session.refresh_token())
    with pytest.raises(OAuthError) as caught:
        session.refresh_token(refresh_token=first["refresh_token"])
    assert caught.value.error == "invalid_grant"

    # RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the grant's tokens.
    with pytest.raises(OAuthError) as caught:
        session.refresh_token(refresh_token=third["refresh_token"])
    assert caught.value.error == "invalid_grant"
    assert _introspect(session, metadata, second["access_token"]) == {"active": False}


def test_refresh_can_narrow_the_scope(
    oauth: Factory, live_context: ServerContext, verifier: TokenVerifier, user: TestUser
) -> None:
    client, secret = trusted_client(live_context)
    session = oauth(client_id=client.client_id, client_secret=secret, scope="read write")
    session.fetch_token(username=user.email, password=user.password)

    narrowed = session.refresh_token(scope="read")

    assert narrowed["scope"] == "read"
    verifier.verify(
        narrowed["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )


def test_expired_access_token_is_refreshed_automatically(
    oauth: Factory,
    live_context: ServerContext,
    as_settings: Settings,
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    updates: list[dict[str, Any]] = []

    def update_token(token: dict[str, Any], **_: Any) -> None:
        updates.append(dict(token))

    client, secret = trusted_client(live_context)
    session = oauth(
        client_id=client.client_id,
        client_secret=secret,
        scope="read",
        update_token=update_token,
    )
    first = dict(session.fetch_token(username=user.email, password=user.password))
    session.token = {**first, "expires_at": int(time.time()) - 5}  # as if an hour went by

    response = session.get(f"{as_settings.issuer}/healthz")

    assert response.status_code == 200
    assert len(updates) == 1
    refreshed = updates[0]
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert response.request.headers["authorization"] == f"Bearer {refreshed['access_token']}"
    verifier.verify(
        refreshed["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )


# --- authorization code with PKCE ----------------------------------------------------------


def test_authorization_code_with_pkce(
    oauth: Factory,
    live_context: ServerContext,
    metadata: dict[str, Any],
    as_settings: Settings,
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    client, secret = make_client(live_context, redirect_uris=(REDIRECT_URI,))
    session = oauth(
        client_id=client.client_id,
        client_secret=secret,
        scope="read write",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    code_verifier = generate_token(48)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier
    )
    assert "code_challenge=" in url and "code_challenge_method=S256" in url

    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI
    )
    params = query_of(callback)
    assert params["state"] == state
    assert params["iss"] == as_settings.issuer  # RFC 9207 §2
    assert params["code"]

    # Passing `state` makes Authlib check it against the callback's (it only checks if told).
    with pytest.raises(MismatchingStateException):
        session.fetch_token(
            authorization_response=callback, state="forged", code_verifier=code_verifier
        )
    token = session.fetch_token(
        authorization_response=callback, state=state, code_verifier=code_verifier
    )

    assert sorted(token["scope"].split()) == ["read", "write"]
    assert_user_tokens(token, user=user, client_id=client.client_id, verifier=verifier)

    # A code is single use; replaying it also revokes what it issued (RFC 6749 §4.1.2).
    with pytest.raises(OAuthError) as caught:
        session.fetch_token(authorization_response=callback, code_verifier=code_verifier)
    assert caught.value.error == "invalid_grant"
    assert _introspect(session, metadata, token["access_token"]) == {"active": False}


def test_authorization_code_without_redirect_uri(
    oauth: Factory,
    live_context: ServerContext,
    metadata: dict[str, Any],
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    """With one registered redirect URI the client may omit it, in both requests
    (RFC 6749 §3.1.2.3, §4.1.3)."""
    client, secret = make_client(live_context, redirect_uris=(REDIRECT_URI,))
    session = oauth(
        client_id=client.client_id,
        client_secret=secret,
        scope="read",
        code_challenge_method="S256",
    )
    code_verifier = generate_token(48)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier
    )
    assert "redirect_uri" not in url
    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI
    )
    responses = keep_token_responses(session)

    token = session.fetch_token(
        authorization_response=callback, state=state, code_verifier=code_verifier
    )

    assert "redirect_uri" not in _sent_body(responses[-1])
    verifier.verify(
        token["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )


def test_authorization_code_with_wrong_verifier_is_invalid_grant(
    oauth: Factory, live_context: ServerContext, metadata: dict[str, Any], user: TestUser
) -> None:
    client, secret = make_client(live_context, redirect_uris=(REDIRECT_URI,))
    session = oauth(
        client_id=client.client_id,
        client_secret=secret,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    url, _ = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=generate_token(48)
    )
    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI
    )
    with pytest.raises(OAuthError) as caught:
        session.fetch_token(authorization_response=callback, code_verifier=generate_token(48))
    assert caught.value.error == "invalid_grant"


def test_public_client_authorization_code_with_pkce_and_refresh(
    oauth: Factory,
    live_context: ServerContext,
    metadata: dict[str, Any],
    as_settings: Settings,
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    client, secret = make_client(
        live_context, client_type="public", redirect_uris=(REDIRECT_URI,), scope="read"
    )
    assert secret is None
    session = oauth(
        client_id=client.client_id,
        token_endpoint_auth_method="none",
        scope="read",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    code_verifier = generate_token(48)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier
    )
    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI
    )
    params = query_of(callback)
    assert params["iss"] == as_settings.issuer
    assert params["state"] == state

    token = dict(
        session.fetch_token(
            authorization_response=callback, state=state, code_verifier=code_verifier
        )
    )
    verifier.verify(
        token["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )
    refreshed = session.refresh_token()
    assert refreshed["refresh_token"] != token["refresh_token"]
    verifier.verify(
        refreshed["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )


def test_implicit_grant_token_in_fragment(
    oauth: Factory,
    live_context: ServerContext,
    metadata: dict[str, Any],
    as_settings: Settings,
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    client, _ = make_client(
        live_context,
        client_type="public",
        grant_types=("implicit",),
        redirect_uris=(REDIRECT_URI,),
        scope="read",
    )
    session = oauth(client_id=client.client_id, scope="read", redirect_uri=REDIRECT_URI)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], response_type="token"
    )
    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI
    )
    assert "?" not in callback, "implicit responses belong in the fragment only"
    params = fragment_of(callback)
    assert params["iss"] == as_settings.issuer
    assert params["state"] == state

    token = session.fetch_token(authorization_response=callback, state=state)

    assert token["token_type"].lower() == "bearer"
    assert "refresh_token" not in token  # RFC 6749 §4.2.2
    assert int(token["expires_in"]) == as_settings.access_token_ttl
    verifier.verify(
        token["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )


# --- revocation and introspection ----------------------------------------------------------


@pytest.mark.parametrize("hint", ["access_token", None, "refresh_token"])
def test_revoked_access_token_introspects_inactive(
    oauth: Factory,
    live_context: ServerContext,
    metadata: dict[str, Any],
    user: TestUser,
    hint: str | None,
) -> None:
    """A missing or wrong `token_type_hint` only changes the lookup order (RFC 7009 §2.1)."""
    client, secret = trusted_client(live_context)
    session = oauth(client_id=client.client_id, client_secret=secret, scope="read")
    token = session.fetch_token(username=user.email, password=user.password)
    access = token["access_token"]

    before = _introspect(session, metadata, access, "access_token")
    assert before["active"] is True
    assert before["sub"] == user.id
    assert before["client_id"] == client.client_id
    assert before["scope"] == "read"

    response = session.revoke_token(
        metadata["revocation_endpoint"], token=access, token_type_hint=hint
    )
    assert response.status_code == 200, response.text

    assert _introspect(session, metadata, access, "access_token") == {"active": False}


def test_revoked_refresh_token_ends_the_grant(
    oauth: Factory,
    live_context: ServerContext,
    metadata: dict[str, Any],
    user: TestUser,
) -> None:
    client, secret = trusted_client(live_context)
    session = oauth(client_id=client.client_id, client_secret=secret, scope="read")
    token = dict(session.fetch_token(username=user.email, password=user.password))
    assert _introspect(session, metadata, token["refresh_token"], "refresh_token")["active"]

    response = session.revoke_token(
        metadata["revocation_endpoint"],
        token=token["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert response.status_code == 200, response.text

    assert _introspect(session, metadata, token["refresh_token"]) == {"active": False}
    # RFC 7009 §2.1: revoking a refresh token also invalidates the grant's access tokens.
    assert _introspect(session, metadata, token["access_token"]) == {"active": False}
    with pytest.raises(OAuthError) as caught:
        session.refresh_token(refresh_token=token["refresh_token"])
    assert caught.value.error == "invalid_grant"


def test_revoked_client_credentials_token_introspects_inactive(
    oauth: Factory, live_context: ServerContext, metadata: dict[str, Any]
) -> None:
    client, secret = make_client(
        live_context, grant_types=("client_credentials",), redirect_uris=()
    )
    session = oauth(
        client_id=client.client_id,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_post",
        revocation_endpoint_auth_method="client_secret_post",
    )
    access = session.fetch_token(grant_type="client_credentials")["access_token"]
    assert _introspect(session, metadata, access)["active"] is True

    response = session.revoke_token(metadata["revocation_endpoint"], token=access)
    assert response.status_code == 200, response.text

    assert _introspect(session, metadata, access) == {"active": False}


def test_revoking_an_unknown_token_succeeds(
    oauth: Factory, live_context: ServerContext, metadata: dict[str, Any]
) -> None:
    client, secret = trusted_client(live_context)
    session = oauth(client_id=client.client_id, client_secret=secret)
    response = session.revoke_token(metadata["revocation_endpoint"], token=generate_token(40))
    assert response.status_code == 200  # RFC 7009 §2.2
