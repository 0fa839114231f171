"""Bearer calls and RFC 6750 challenges (api.py)."""

import httpx
import pytest

from services.demo_client.api import BearerApi, parse_bearer_challenge


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            'Bearer realm="dropletbook", error="invalid_token", error_description="expired"',
            {"realm": "dropletbook", "error": "invalid_token", "error_description": "expired"},
            id="invalid-token",
        ),
        pytest.param(
            'Bearer error="insufficient_scope", scope="write"',
            {"error": "insufficient_scope", "scope": "write"},
            id="insufficient-scope",
        ),
        pytest.param('Bearer realm="a \\"b\\""', {"realm": 'a \\"b\\"'}, id="escaped-quote"),
        pytest.param('Basic realm="x"', {}, id="not-bearer"),
        pytest.param(None, {}, id="missing"),
    ],
)
def test_parse_bearer_challenge(header: str | None, expected: dict[str, str]) -> None:
    assert parse_bearer_challenge(header) == expected


def api(handler: httpx.MockTransport) -> BearerApi:
    return BearerApi(
        httpx.Client(transport=handler), base_url="http://rs.internal", shown_url="http://rs"
    )


def test_call_sends_the_bearer_token_and_shows_the_public_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"account": {"uuid": "u"}})

    call = api(httpx.MockTransport(handler)).call("GET", "/v2/account", token="tok")
    assert seen[0].headers["authorization"] == "Bearer tok"
    assert str(seen[0].url) == "http://rs.internal/v2/account"
    assert call.url == "http://rs/v2/account"
    assert call.ok
    assert call.error is None


def test_expired_token_is_recognised() -> None:
    challenge = 'Bearer error="invalid_token", error_description="token expired"'
    transport = httpx.MockTransport(
        lambda request: httpx.Response(401, headers={"WWW-Authenticate": challenge})
    )
    call = api(transport).call("GET", "/v2/account", token="old")
    assert call.token_rejected
    assert not call.scope_too_small
    assert call.error_description == "token expired"


def test_insufficient_scope_is_recognised() -> None:
    challenge = 'Bearer error="insufficient_scope", scope="write"'
    transport = httpx.MockTransport(
        lambda request: httpx.Response(403, headers={"WWW-Authenticate": challenge})
    )
    call = api(transport).call("POST", "/v2/droplets", token="t", json={"name": "x"})
    assert call.scope_too_small
    assert not call.token_rejected


def test_error_body_without_challenge() -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(422, json={"error": "invalid_request", "detail": "bad"})
    )
    call = api(transport).call("POST", "/v2/droplets", token="t", json={})
    assert call.error == "invalid_request"
    assert call.error_description == "bad"


def test_unreachable_api_is_a_result_not_an_exception() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    call = api(httpx.MockTransport(refuse)).call("GET", "/v2/account", token="t")
    assert call.status == 0
    assert call.error == "unreachable"
    assert "http://rs.internal/v2/account is unreachable" in call.error_description
