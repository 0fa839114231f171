"""State, PKCE, the authorization URL and the back-channel requests (oauth.py)."""

import base64
import re
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from services.demo_client import oauth
from services.demo_client.oauth import (
    AuthorizationServerUnreachableError,
    TokenClient,
    TokenRequestError,
)


def test_rfc7636_appendix_b_challenge() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oauth.s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_pair_is_fresh_and_well_formed() -> None:
    first, second = oauth.new_pkce_pair(), oauth.new_pkce_pair()
    assert first.verifier != second.verifier
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", first.verifier)
    assert first.challenge == oauth.s256_challenge(first.verifier)
    assert first.method == "S256"


def test_state_is_unguessable_and_compared_strictly() -> None:
    states = {oauth.new_state() for _ in range(100)}
    assert len(states) == 100
    state = states.pop()
    assert len(state) >= 32
    assert oauth.state_matches(state, state)
    assert not oauth.state_matches(state, state + "x")
    assert not oauth.state_matches(None, state)
    assert not oauth.state_matches(state, None)
    assert not oauth.state_matches("", "")


def test_authorize_url_carries_every_parameter_encoded() -> None:
    pkce = oauth.new_pkce_pair()
    params = oauth.authorize_parameters(
        response_type="code",
        client_id="dropletbook",
        redirect_uri="http://127.0.0.1:8080/callback?x=1&y=2",
        scope="read write",
        state="s t&a=te",
        pkce=pkce,
    )
    url = oauth.build_authorize_url("http://127.0.0.1:8000", params)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "http://127.0.0.1:8000/v1/oauth/authorize"
    )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": "dropletbook",
        "redirect_uri": "http://127.0.0.1:8080/callback?x=1&y=2",
        "scope": "read write",
        "state": "s t&a=te",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }


def test_implicit_parameters_have_no_pkce() -> None:
    params = oauth.authorize_parameters(
        response_type="token", client_id="c", redirect_uri="http://127.0.0.1/cb", scope="read",
        state="s",
    )  # fmt: skip
    assert "code_challenge" not in params


def test_basic_authorization_urlencodes_both_parts() -> None:
    header = oauth.basic_authorization("my:client", "se cret/+")
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    assert decoded == "my%3Aclient:se%20cret%2F%2B"


class Recorder:
    def __init__(self, response: httpx.Response | Exception) -> None:
        self.response = response
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.response, Exception):
            raise self.response
        return self.response


def token_client(handler: Recorder, secret: str | None = "s3cret") -> TokenClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return TokenClient(http, base_url="http://as.internal/", client_id="app", client_secret=secret)


TOKENS = {
    "access_token": "at",
    "token_type": "Bearer",
    "expires_in": 3600,
    "refresh_token": "rt",
    "scope": "read",
    "info": {"email": "demo@example.com"},
}


def test_exchange_code_posts_the_form_with_basic_auth() -> None:
    handler = Recorder(httpx.Response(200, json=TOKENS))
    result = token_client(handler).exchange_code(
        code="c0de", redirect_uri="http://127.0.0.1:8080/callback", code_verifier="v" * 43
    )
    (request,) = handler.requests
    assert str(request.url) == "http://as.internal/v1/oauth/token"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == oauth.basic_authorization("app", "s3cret")
    assert dict(parse_qsl(request.content.decode())) == {
        "grant_type": "authorization_code",
        "code": "c0de",
        "redirect_uri": "http://127.0.0.1:8080/callback",
        "code_verifier": "v" * 43,
    }
    assert result.tokens.access_token == "at"
    assert result.tokens.refresh_token == "rt"
    assert result.tokens.token_type == "bearer"
    assert result.tokens.info == {"email": "demo@example.com"}
    assert result.exchange.status == 200
    assert result.exchange.client_auth == "client_secret_basic"


def test_public_client_sends_its_id_in_the_form() -> None:
    handler = Recorder(httpx.Response(200, json=TOKENS))
    token_client(handler, secret=None).refresh(refresh_token="rt")
    (request,) = handler.requests
    assert "authorization" not in request.headers
    assert dict(parse_qsl(request.content.decode()))["client_id"] == "app"


def test_omitted_scope_means_the_requested_one() -> None:
    body = {k: v for k, v in TOKENS.items() if k != "scope"}
    handler = Recorder(httpx.Response(200, json=body))
    result = token_client(handler).client_credentials(scope="read write")
    assert result.tokens.scope == "read write"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"token_type": "bearer"}, id="no-access-token"),
        pytest.param({"access_token": "at", "token_type": "mac"}, id="not-bearer"),
        pytest.param(["not", "an", "object"], id="not-an-object"),
    ],
)
def test_malformed_token_responses_are_errors(body: object) -> None:
    handler = Recorder(httpx.Response(200, json=body))
    with pytest.raises(TokenRequestError) as caught:
        token_client(handler).password(username="u", password="p", scope="read")
    assert caught.value.error == "invalid_response"


def test_error_responses_raise_with_their_rfc_code() -> None:
    error = {"error": "invalid_grant", "error_description": "code expired"}
    handler = Recorder(httpx.Response(400, json=error))
    with pytest.raises(TokenRequestError) as caught:
        token_client(handler).refresh(refresh_token="old")
    assert caught.value.error == "invalid_grant"
    assert caught.value.description == "code expired"
    assert caught.value.exchange.status == 400


def test_non_json_errors_get_a_status_code() -> None:
    handler = Recorder(httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(TokenRequestError) as caught:
        token_client(handler).revoke(token="t", token_type_hint="access_token")
    assert caught.value.error == "http_502"


def test_revoke_sends_token_and_hint() -> None:
    handler = Recorder(httpx.Response(200))
    exchange = token_client(handler).revoke(token="rt", token_type_hint="refresh_token")
    (request,) = handler.requests
    assert str(request.url) == "http://as.internal/v1/oauth/revoke"
    assert dict(parse_qsl(request.content.decode())) == {
        "token": "rt",
        "token_type_hint": "refresh_token",
    }
    assert exchange.ok


def test_unreachable_server_is_its_own_error() -> None:
    handler = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(AuthorizationServerUnreachableError) as caught:
        token_client(handler).client_credentials(scope="read")
    assert caught.value.url == "http://as.internal/v1/oauth/token"
    assert caught.value.reason == "ConnectError"
