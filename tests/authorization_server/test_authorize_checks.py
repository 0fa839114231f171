"""The authorization endpoint's checklist (`authorize.check_*`, RFC 6749 §4.1.1, §4.2.1,
RFC 7636, RFC 8707) called directly: pure logic, no HTTP and no database.

The HTTP behaviour (shown vs redirected errors, `state`, `iss`) is in
test_authorize_endpoint.py; here each check's own decision is pinned down.
"""

from typing import Any

import pytest

from services.authorization_server import authorize
from services.authorization_server.authorize import AuthorizationRedirectError
from services.authorization_server.models import Client
from services.authorization_server.settings import Settings
from shared.errors import (
    InvalidRequestError,
    InvalidScopeError,
    InvalidTargetError,
    OAuthError,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from tests.factories import test_settings

CALLBACK = "http://127.0.0.1:8080/callback"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 Appendix B


def _client(**overrides: Any) -> Client:
    values: dict[str, Any] = {
        "client_id": "app-1",
        "name": "Dropletbook",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "read write",
        **overrides,
    }
    return Client(**values)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return test_settings("sqlite://")  # never opened: the checks take settings as values


def _params(**overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "app-1",
        "redirect_uri": CALLBACK,
        "scope": "read",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **overrides,
    }


def test_single_values_drops_empty_and_reports_repeats() -> None:
    params, repeated = authorize.check_single_values(
        [("scope", "read"), ("state", ""), ("scope", "write"), ("response_type", "code")]
    )
    assert params == {"scope": "write", "response_type": "code"}
    assert repeated == ["scope"]


@pytest.mark.parametrize("name", ["client_id", "redirect_uri"])
def test_a_repeated_client_id_or_redirect_uri_is_refused_at_once(name: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        authorize.check_single_values([(name, "a"), (name, "b")])
    assert raised.value.description == f"parameter {name!r} repeated"


@pytest.mark.parametrize(
    ("client_id", "description"),
    [
        pytest.param(None, "missing parameter: client_id", id="missing"),
        pytest.param("nope", "unknown client_id", id="unknown"),
        pytest.param("a\x00b", "unknown client_id", id="nul"),
        pytest.param("x" * 201, "unknown client_id", id="too-long"),
    ],
)
def test_check_client_refusals(client_id: str | None, description: str) -> None:
    looked_up: list[str] = []

    def load(value: str) -> Client | None:
        looked_up.append(value)
        return None

    params = {} if client_id is None else {"client_id": client_id}
    with pytest.raises(InvalidRequestError) as raised:
        authorize.check_client(params, load)
    assert raised.value.description == description
    assert raised.value.status_code == 400  # a page for the user, not client authentication
    if client_id is None or "\x00" in client_id or len(client_id) > 200:
        assert looked_up == []  # never reaches the database


def test_check_client_returns_the_loaded_client() -> None:
    client = _client()
    assert authorize.check_client({"client_id": "app-1"}, {"app-1": client}.get) is client


@pytest.mark.parametrize(
    ("uris", "given", "expected"),
    [
        pytest.param([CALLBACK], None, CALLBACK, id="omitted-one-registered"),
        pytest.param([CALLBACK, "https://b.example/cb"], CALLBACK, CALLBACK, id="exact-match"),
    ],
)
def test_check_redirect_uri_accepts(uris: list[str], given: str | None, expected: str) -> None:
    params = {} if given is None else {"redirect_uri": given}
    assert authorize.check_redirect_uri(params, _client(redirect_uris=uris)) == expected


@pytest.mark.parametrize(
    ("uris", "given", "description"),
    [
        pytest.param(
            [CALLBACK, "https://b.example/cb"],
            None,
            "redirect_uri required: the client registered several",
            id="omitted-several-registered",
        ),
        pytest.param([], None, "the client has no redirect URI registered", id="none-registered"),
        pytest.param(
            [CALLBACK],
            CALLBACK + "/",
            "redirect_uri does not match a registered redirect URI",
            id="trailing-slash",
        ),
        pytest.param(
            [CALLBACK],
            CALLBACK.upper(),
            "redirect_uri does not match a registered redirect URI",
            id="case",
        ),
        pytest.param(
            [CALLBACK],
            CALLBACK + "?x=1",
            "redirect_uri does not match a registered redirect URI",
            id="extra-query",
        ),
    ],
)
def test_check_redirect_uri_refusals(uris: list[str], given: str | None, description: str) -> None:
    params = {} if given is None else {"redirect_uri": given}
    with pytest.raises(InvalidRequestError) as raised:
        authorize.check_redirect_uri(params, _client(redirect_uris=uris))
    assert raised.value.description == description


def test_check_parameters_refuses_repeats_and_overlong_values() -> None:
    authorize.check_parameters(_params(state="s" * 2000), [])
    with pytest.raises(InvalidRequestError, match="'scope' repeated"):
        authorize.check_parameters(_params(), ["scope"])
    with pytest.raises(InvalidRequestError, match="'state' too long"):
        authorize.check_parameters(_params(state="s" * 2001), [])


@pytest.mark.parametrize(
    ("response_type", "grant_types", "error"),
    [
        pytest.param(None, ["authorization_code"], InvalidRequestError, id="missing"),
        pytest.param(
            "code token", ["authorization_code"], UnsupportedResponseTypeError, id="hybrid"
        ),
        pytest.param("id_token", ["authorization_code"], UnsupportedResponseTypeError, id="oidc"),
        pytest.param("token", ["authorization_code"], UnauthorizedClientError, id="not-allowed"),
        pytest.param(
            "code", ["client_credentials"], UnauthorizedClientError, id="code-not-allowed"
        ),
    ],
)
def test_check_response_type_refusals(
    response_type: str | None, grant_types: list[str], error: type[OAuthError]
) -> None:
    params = {} if response_type is None else {"response_type": response_type}
    with pytest.raises(error):
        authorize.check_response_type(params, _client(grant_types=grant_types))


def test_check_response_type_accepts_the_clients_grants() -> None:
    client = _client(grant_types=["authorization_code", "implicit"])
    assert authorize.check_response_type({"response_type": "code"}, client) == "code"
    assert authorize.check_response_type({"response_type": "token"}, client) == "token"


def test_check_scope(settings: Settings) -> None:
    client = _client(scope="read")
    assert authorize.check_scope({"scope": "read"}, client, settings) == "read"
    with pytest.raises(InvalidScopeError):
        authorize.check_scope({"scope": "read write"}, client, settings)
    with pytest.raises(InvalidScopeError):
        authorize.check_scope({"scope": "admin"}, _client(), settings)


def test_check_resource_allows_only_the_cloud_api_for_users(settings: Settings) -> None:
    authorize.check_resource({}, settings)
    authorize.check_resource({"resource": settings.resource_audience}, settings)
    with pytest.raises(InvalidTargetError):
        authorize.check_resource({"resource": settings.apps_api_resource}, settings)
    with pytest.raises(InvalidTargetError):
        authorize.check_resource({"resource": "https://elsewhere.example"}, settings)


@pytest.mark.parametrize(
    ("overrides", "client_type", "description"),
    [
        pytest.param(
            {"code_challenge_method": "plain"},
            "confidential",
            "code_challenge_method must be S256",
            id="plain",
        ),
        pytest.param(
            {"code_challenge": "short"},
            "confidential",
            "code_challenge is not a valid S256 challenge",
            id="malformed",
        ),
        pytest.param(
            {"code_challenge": ""},
            "confidential",
            "code_challenge_method without code_challenge",
            id="method-only",
        ),
        pytest.param(
            {"code_challenge": "", "code_challenge_method": ""},
            "public",
            "public clients must use PKCE (code_challenge, S256)",
            id="public-without",
        ),
    ],
)
def test_check_pkce_refusals(overrides: dict[str, str], client_type: str, description: str) -> None:
    params = {k: v for k, v in _params(**overrides).items() if v != ""}
    with pytest.raises(InvalidRequestError) as raised:
        authorize.check_pkce(params, _client(client_type=client_type), "code")
    assert raised.value.description == description


def test_check_pkce_is_optional_for_confidential_clients_and_unused_by_implicit() -> None:
    without = {k: v for k, v in _params().items() if not k.startswith("code_challenge")}
    assert authorize.check_pkce(without, _client(), "code") is None
    assert authorize.check_pkce(_params(), _client(), "code") == CHALLENGE
    implicit = _params(response_type="token", code_challenge_method="plain")
    assert authorize.check_pkce(implicit, _client(client_type="public"), "token") is None


def test_validate_request_runs_the_checks_in_order(settings: Settings) -> None:
    client = _client()
    request = authorize.validate_request(
        list(_params(state="xyz").items()), load_client={"app-1": client}.get, settings=settings
    )
    assert request.client is client
    assert (request.redirect_uri, request.response_type, request.scope) == (
        CALLBACK,
        "code",
        "read",
    )
    assert (request.state, request.code_challenge) == ("xyz", CHALLENGE)


def test_validate_request_shows_errors_before_the_redirect_uri_is_trusted(
    settings: Settings,
) -> None:
    items = list(_params(redirect_uri="https://evil.example/cb", scope="admin").items())
    with pytest.raises(InvalidRequestError):  # not a redirect: the target is not trusted
        authorize.validate_request(items, load_client={"app-1": _client()}.get, settings=settings)


def test_validate_request_redirects_later_errors_with_state(settings: Settings) -> None:
    items = list(_params(scope="admin", state="xyz", response_type="token").items())
    client = _client(grant_types=["implicit"])
    with pytest.raises(AuthorizationRedirectError) as raised:
        authorize.validate_request(items, load_client={"app-1": client}.get, settings=settings)
    assert isinstance(raised.value.error, InvalidScopeError)
    assert (raised.value.redirect_uri, raised.value.state) == (CALLBACK, "xyz")
    assert raised.value.fragment  # implicit answers in the fragment (RFC 6749 §4.2.2)
