"""requests-oauthlib (on oauthlib's Backend/Legacy/WebApplication clients) against a live server."""

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from oauthlib.oauth2 import (
    AccessDeniedError,
    BackendApplicationClient,
    InvalidClientError,
    InvalidGrantError,
    InvalidScopeError,
    LegacyApplicationClient,
    MobileApplicationClient,
    OAuth2Error,
    UnauthorizedClientError,
    WebApplicationClient,
)
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from services.authorization_server.context import ServerContext
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


@pytest.fixture
def sessions() -> Iterator[list[OAuth2Session]]:
    made: list[OAuth2Session] = []
    yield made
    for session in made:
        session.close()


def _session(made: list[OAuth2Session], **kwargs: Any) -> OAuth2Session:
    session = OAuth2Session(**kwargs)
    made.append(session)
    return session


def _sent_form(response: requests.Response) -> str:
    body = response.request.body
    return body.decode() if isinstance(body, bytes) else str(body or "")


def _introspect(metadata: dict[str, Any], token: str, auth: HTTPBasicAuth) -> dict[str, Any]:
    response = requests.post(
        metadata["introspection_endpoint"], data={"token": token}, auth=auth, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- client credentials ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    verifier: TokenVerifier,
    method: str,
) -> None:
    client, secret = make_client(
        live_context, grant_types=("client_credentials",), redirect_uris=()
    )
    # The oauthlib client carries the scope: requests-oauthlib's own `scope` is not sent here.
    backend = BackendApplicationClient(client_id=client.client_id, scope=["read"])
    oauth = _session(sessions, client=backend)
    responses = keep_token_responses(oauth)

    # Without `include_client_id` the library authenticates with HTTP Basic; with it, in the body.
    token = oauth.fetch_token(
        metadata["token_endpoint"],
        client_secret=secret,
        include_client_id=method == "client_secret_post",
    )

    assert token["token_type"].lower() == "bearer"
    assert token["scope"] == ["read"]  # oauthlib splits the scope
    assert "refresh_token" not in token
    verifier.verify(
        token["access_token"], subject=client.client_id, client_id=client.client_id, scope="read"
    )
    [response] = responses
    assert response.headers["cache-control"] == "no-store"
    assert ("Authorization" in response.request.headers) == (method == "client_secret_basic")
    assert ("client_secret=" in _sent_form(response)) == (method == "client_secret_post")


def test_client_credentials_wrong_secret_is_invalid_client(
    sessions: list[OAuth2Session], live_context: ServerContext, metadata: dict[str, Any]
) -> None:
    client, _ = make_client(live_context, grant_types=("client_credentials",), redirect_uris=())
    oauth = _session(sessions, client=BackendApplicationClient(client_id=client.client_id))
    with pytest.raises(InvalidClientError):
        oauth.fetch_token(metadata["token_endpoint"], client_secret="not-the-secret")


def test_client_credentials_for_the_app_api(
    sessions: list[OAuth2Session], live_context: ServerContext, metadata: dict[str, Any]
) -> None:
    """RFC 8707: extra `fetch_token` arguments go into the body; only the token that asked
    for the app API's `resource` is accepted by `/v1/apps/self`."""
    client, secret = make_client(
        live_context, grant_types=("client_credentials",), redirect_uris=()
    )
    backend = BackendApplicationClient(client_id=client.client_id, scope=["read"])
    oauth = _session(sessions, client=backend)
    oauth.fetch_token(
        metadata["token_endpoint"], client_secret=secret, resource=apps_api_resource(metadata)
    )
    response = oauth.get(metadata["app_self_endpoint"], timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["client_id"] == client.client_id

    cloud = _session(sessions, client=BackendApplicationClient(client.client_id, scope=["read"]))
    cloud.fetch_token(metadata["token_endpoint"], client_secret=secret)
    refused = cloud.get(metadata["app_self_endpoint"], timeout=10)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"

    with pytest.raises(OAuth2Error) as caught:
        oauth.fetch_token(
            metadata["token_endpoint"], client_secret=secret, resource="https://other.example"
        )
    assert caught.value.error == "invalid_target"


# --- resource owner password credentials -------------------------------------------------


def test_password_grant_for_trusted_client(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    client, secret = trusted_client(live_context)
    oauth = _session(
        sessions,
        client=LegacyApplicationClient(client_id=client.client_id, scope=["read", "write"]),
    )

    token = oauth.fetch_token(
        metadata["token_endpoint"],
        username=user.email,
        password=user.password,
        client_secret=secret,
    )

    assert sorted(token["scope"]) == ["read", "write"]
    assert_user_tokens(token, user=user, client_id=client.client_id, verifier=verifier)


def test_password_grant_refused_to_untrusted_client(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    user: TestUser,
) -> None:
    client, secret = make_client(live_context)  # authorization_code + refresh_token, untrusted
    oauth = _session(sessions, client=LegacyApplicationClient(client_id=client.client_id))
    with pytest.raises(UnauthorizedClientError) as caught:
        oauth.fetch_token(
            metadata["token_endpoint"],
            username=user.email,
            password=user.password,
            client_secret=secret,
        )
    assert caught.value.error == "unauthorized_client"
    assert caught.value.status_code == 400


def test_password_grant_wrong_password_is_invalid_grant(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    user: TestUser,
) -> None:
    client, secret = trusted_client(live_context)
    oauth = _session(sessions, client=LegacyApplicationClient(client_id=client.client_id))
    with pytest.raises(InvalidGrantError):
        oauth.fetch_token(
            metadata["token_endpoint"],
            username=user.email,
            password="wrong " + user.password,
            client_secret=secret,
        )


# --- refresh tokens ----------------------------------------------------------------------


def test_refresh_token_rotates_and_old_one_is_refused(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    client, secret = trusted_client(live_context)
    auth = HTTPBasicAuth(client.client_id, secret)
    oauth = _session(
        sessions, client=LegacyApplicationClient(client_id=client.client_id, scope=["read"])
    )
    first = dict(
        oauth.fetch_token(
            metadata["token_endpoint"], username=user.email, password=user.password, auth=auth
        )
    )

    second = dict(oauth.refresh_token(metadata["token_endpoint"], auth=auth))

    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert_user_info(second, user_id=user.id, email=user.email, name=user.name)
    verifier.verify(
        second["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )

    # Within the grace window `first` would get `second` again; once `second` has been
    # used as well, presenting `first` is reuse.
    third = dict(oauth.refresh_token(metadata["token_endpoint"], auth=auth))
    with pytest.raises(InvalidGrantError):
        oauth.refresh_token(
            metadata["token_endpoint"], refresh_token=first["refresh_token"], auth=auth
        )
    # The reuse revoked the grant (RFC 9700 §4.14.2): the rotated-in token is dead too.
    with pytest.raises(InvalidGrantError):
        oauth.refresh_token(
            metadata["token_endpoint"], refresh_token=third["refresh_token"], auth=auth
        )
    assert _introspect(metadata, second["access_token"], auth) == {"active": False}


def test_expired_access_token_is_refreshed_automatically(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    as_settings: Settings,
    verifier: TokenVerifier,
    user: TestUser,
) -> None:
    client, secret = trusted_client(live_context)
    updates: list[dict[str, Any]] = []
    oauth = _session(
        sessions,
        client=LegacyApplicationClient(client_id=client.client_id, scope=["read"]),
        auto_refresh_url=metadata["token_endpoint"],
        # client_secret_post on the automatic refresh
        auto_refresh_kwargs={"client_id": client.client_id, "client_secret": secret},
        token_updater=lambda token: updates.append(dict(token)),
    )
    first = dict(
        oauth.fetch_token(
            metadata["token_endpoint"],
            username=user.email,
            password=user.password,
            client_secret=secret,
        )
    )
    oauth.token = {**first, "expires_at": time.time() - 5}

    response = oauth.get(f"{as_settings.issuer}/healthz", timeout=10)

    assert response.status_code == 200
    assert len(updates) == 1
    refreshed = updates[0]
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert response.request.headers["Authorization"] == f"Bearer {refreshed['access_token']}"
    verifier.verify(
        refreshed["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )


# --- authorization code with PKCE ----------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authorization_code_with_pkce(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    as_settings: Settings,
    verifier: TokenVerifier,
    user: TestUser,
    method: str,
) -> None:
    client, secret = make_client(live_context, redirect_uris=(REDIRECT_URI,))
    oauth = _session(
        sessions,
        client=WebApplicationClient(client.client_id),
        redirect_uri=REDIRECT_URI,
        scope=["read", "write"],
        pkce="S256",
    )
    url, state = oauth.authorization_url(metadata["authorization_endpoint"])
    assert "code_challenge=" in url and "code_challenge_method=S256" in url

    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI
    )
    params = query_of(callback)
    assert params["state"] == state
    assert params["iss"] == as_settings.issuer  # RFC 9207 §2

    token = oauth.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        client_secret=secret,
        include_client_id=method == "client_secret_post",
    )

    assert sorted(token["scope"]) == ["read", "write"]
    assert_user_tokens(token, user=user, client_id=client.client_id, verifier=verifier)


def test_public_client_authorization_code_with_pkce_and_refresh(
    sessions: list[OAuth2Session],
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
    oauth = _session(
        sessions,
        client=WebApplicationClient(client.client_id),
        redirect_uri=REDIRECT_URI,
        scope=["read"],
        pkce="S256",
    )
    responses = keep_token_responses(oauth)
    url, state = oauth.authorization_url(metadata["authorization_endpoint"])
    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI
    )
    params = query_of(callback)
    assert params["iss"] == as_settings.issuer
    assert params["state"] == state

    token = dict(
        oauth.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, include_client_id=True
        )
    )

    assert "Authorization" not in responses[-1].request.headers
    assert "code_verifier=" in _sent_form(responses[-1])
    verifier.verify(
        token["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )
    refreshed = oauth.refresh_token(metadata["token_endpoint"], client_id=client.client_id)
    assert refreshed["refresh_token"] != token["refresh_token"]
    verifier.verify(
        refreshed["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )


def test_implicit_grant_token_in_fragment(
    sessions: list[OAuth2Session],
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
    oauth = _session(
        sessions,
        client=MobileApplicationClient(client.client_id),
        redirect_uri=REDIRECT_URI,
        scope=["read"],
    )
    url, state = oauth.authorization_url(metadata["authorization_endpoint"])
    assert "response_type=token" in url
    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI
    )
    params = fragment_of(callback)
    assert params["iss"] == as_settings.issuer
    assert params["state"] == state

    token = oauth.token_from_fragment(callback)  # checks state

    assert token["token_type"].lower() == "bearer"
    assert "refresh_token" not in token
    verifier.verify(
        token["access_token"], subject=user.id, client_id=client.client_id, scope="read"
    )


def test_authorization_code_denied_by_user(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    as_settings: Settings,
    user: TestUser,
) -> None:
    client, secret = make_client(live_context, redirect_uris=(REDIRECT_URI,))
    oauth = _session(
        sessions,
        client=WebApplicationClient(client.client_id),
        redirect_uri=REDIRECT_URI,
        scope=["read"],
        pkce="S256",
    )
    url, state = oauth.authorization_url(metadata["authorization_endpoint"])

    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI, decision="deny"
    )

    params = query_of(callback)
    assert params["error"] == "access_denied"
    assert params["state"] == state
    assert params["iss"] == as_settings.issuer
    assert "code" not in params
    with pytest.raises(AccessDeniedError):
        oauth.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, client_secret=secret
        )


def test_authorization_error_redirect_is_parsed_by_the_library(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    as_settings: Settings,
) -> None:
    """A request the server refuses after checking the client and redirect URI goes back
    to the client with `error`, `state` and `iss` (RFC 6749 §4.1.2.1, RFC 9207), before login."""
    client, secret = make_client(live_context, redirect_uris=(REDIRECT_URI,), scope="read")
    oauth = _session(
        sessions,
        client=WebApplicationClient(client.client_id),
        redirect_uri=REDIRECT_URI,
        scope=["write"],  # not registered for this client
        pkce="S256",
    )
    url, state = oauth.authorization_url(metadata["authorization_endpoint"])

    response = httpx.get(url, follow_redirects=False, timeout=10)

    assert response.status_code == 303, response.text
    callback = response.headers["location"]
    assert callback.startswith(REDIRECT_URI + "?")
    params = query_of(callback)
    assert params["error"] == "invalid_scope"
    assert params["state"] == state
    assert params["iss"] == as_settings.issuer
    with pytest.raises(InvalidScopeError):
        oauth.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, client_secret=secret
        )


def test_authorization_code_bound_to_its_client(
    sessions: list[OAuth2Session],
    live_context: ServerContext,
    metadata: dict[str, Any],
    user: TestUser,
) -> None:
    """A code stolen by another registered client is useless to it (RFC 6749 §4.1.3)."""
    client, _ = make_client(live_context, redirect_uris=(REDIRECT_URI,))
    thief, thief_secret = make_client(live_context, name="Thief", redirect_uris=(REDIRECT_URI,))
    oauth = _session(
        sessions,
        client=WebApplicationClient(client.client_id),
        redirect_uri=REDIRECT_URI,
        scope=["read"],
        pkce="S256",
    )
    url, _ = oauth.authorization_url(metadata["authorization_endpoint"])
    callback = authorize_in_browser(
        url, email=user.email, password=user.password, redirect_uri=REDIRECT_URI
    )
    oauth._client.client_id = thief.client_id  # same verifier and state: only the client differs
    with pytest.raises(OAuth2Error) as caught:
        oauth.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, client_secret=thief_secret
        )
    assert caught.value.error == "invalid_grant"
