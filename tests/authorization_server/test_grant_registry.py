"""The grant registry: every list of grant and response types is derived from it."""

import asyncio
from typing import Any

import pytest
from sqlmodel import Session

from services.authorization_server import authorize
from services.authorization_server.client_metadata import register
from services.authorization_server.client_rules import RegistrationError, check_grant_types
from services.authorization_server.context import ServerContext
from services.authorization_server.grants import (
    GRANT_TYPES,
    GRANT_TYPES_SUPPORTED,
    GRANTS,
    REDIRECTING_GRANTS,
    RESPONSE_TYPES,
    TOKEN_GRANT_TYPES,
    get_grant,
)
from services.authorization_server.main import create_app
from services.authorization_server.models import Client
from services.authorization_server.routes.well_known import metadata
from services.authorization_server.settings import Settings
from shared.errors import (
    InvalidClientMetadataError,
    InvalidRequestError,
    OAuthError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)
from tests.factories import make_client


def _client(*grant_types: str, client_type: str = "confidential") -> Client:
    return Client(
        client_id="c1",
        name="App",
        redirect_uris=["https://app.example/cb"],
        grant_types=list(grant_types),
        client_type=client_type,
    )


def test_every_grant_is_keyed_by_its_grant_type() -> None:
    assert all(name == grant.grant_type for name, grant in GRANTS.items())
    assert GRANT_TYPES == (
        "authorization_code",
        "implicit",
        "refresh_token",
        "client_credentials",
        "password",
    )


def test_implicit_is_a_response_type_only_grant() -> None:
    assert RESPONSE_TYPES["token"] is GRANTS["implicit"]
    assert RESPONSE_TYPES["code"] is GRANTS["authorization_code"]
    assert "implicit" not in TOKEN_GRANT_TYPES
    assert {"authorization_code", "implicit"} == REDIRECTING_GRANTS


def test_token_endpoint_refuses_implicit_like_an_unknown_grant(context: ServerContext) -> None:
    with pytest.raises(UnsupportedGrantTypeError):
        get_grant(context.grants, "implicit")
    with pytest.raises(InvalidRequestError):
        get_grant(context.grants, None)
    assert get_grant(context.grants, "password") is context.grants["password"]


def test_metadata_is_derived_from_the_registry(context: ServerContext) -> None:
    document = metadata(context)
    assert document["grant_types_supported"] == GRANT_TYPES_SUPPORTED
    assert set(GRANT_TYPES_SUPPORTED) == set(GRANTS)
    assert document["response_types_supported"] == list(RESPONSE_TYPES)
    assert document["response_modes_supported"] == ["query", "fragment"]


def test_openapi_form_is_derived_from_the_registry(settings: Settings) -> None:
    schema: dict[str, Any] = create_app(settings).openapi()
    operation = schema["paths"]["/v1/oauth/token"]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["properties"]["grant_type"]["enum"] == list(TOKEN_GRANT_TYPES)
    for name in TOKEN_GRANT_TYPES:
        assert set(GRANTS[name].parameters) <= set(form["properties"]), name
        assert f"`{name}`" in operation["description"]


@pytest.mark.parametrize(
    ("grant_types", "client_type", "trusted", "message"),
    [
        pytest.param(["client_credentials"], "public", False, "Public clients", id="public-cc"),
        pytest.param(["password"], "confidential", False, "trusted", id="untrusted-password"),
        pytest.param(["implicit2"], "confidential", False, "Unknown grant", id="unknown"),
    ],
)
def test_registration_rules_come_from_grant_declarations(
    grant_types: list[str], client_type: str, trusted: bool, message: str
) -> None:
    with pytest.raises(RegistrationError, match=message):
        check_grant_types(grant_types, client_type=client_type, trusted=trusted)


def test_registration_accepts_every_registered_grant_for_a_trusted_client() -> None:
    assert check_grant_types(GRANT_TYPES, client_type="confidential", trusted=True) == list(
        GRANT_TYPES
    )


def test_rfc7591_response_types_follow_the_registry(context: ServerContext) -> None:
    with Session(context.engine) as session:
        with pytest.raises(InvalidClientMetadataError, match="code, token"):
            register(session, {"response_types": ["id_token"]}, settings=context.settings)
        body = register(
            session,
            {"redirect_uris": ["https://app.example/cb"], "grant_types": ["implicit"]},
            settings=context.settings,
        )
    assert body["response_types"] == ["token"]


@pytest.mark.parametrize(
    ("params", "grant_types", "error"),
    [
        pytest.param({}, ["authorization_code"], InvalidRequestError, id="missing"),
        pytest.param(
            {"response_type": "id_token"},
            ["authorization_code"],
            UnsupportedResponseTypeError,
            id="unsupported",
        ),
        pytest.param(
            {"response_type": "token"},
            ["authorization_code"],
            UnauthorizedClientError,
            id="not-registered",
        ),
    ],
)
def test_check_response_type_errors(
    params: dict[str, str], grant_types: list[str], error: type[OAuthError]
) -> None:
    with pytest.raises(error):
        authorize.check_response_type(params, _client(*grant_types))


def test_check_response_type_names_the_supported_values() -> None:
    with pytest.raises(UnsupportedResponseTypeError) as caught:
        authorize.check_response_type({"response_type": "x"}, _client("authorization_code"))
    assert caught.value.description == "response_type must be code or token"


def test_check_pkce_only_for_the_code_grant() -> None:
    public = _client("implicit", "authorization_code", client_type="public")
    assert authorize.check_pkce({}, public, "token") is None
    with pytest.raises(InvalidRequestError, match="PKCE"):
        authorize.check_pkce({}, public, "code")


def test_responses_go_in_the_fragment_only_for_implicit() -> None:
    assert authorize.uses_fragment("token")
    assert not authorize.uses_fragment("code")
    assert not authorize.uses_fragment(None)


def test_validate_checks_the_request_and_leaves_storage_to_issue(context: ServerContext) -> None:
    client, _ = make_client(context, grant_types=("authorization_code",))
    registered = asyncio.run(context.clients.load(client.client_id))
    assert registered is not None
    grant = context.grants["authorization_code"]
    # An unknown code passes validation: looking it up (and consuming it) is `issue`'s work.
    request = grant.validate({"code": "unknown"}, registered)
    assert request.audience == context.settings.resource_audience
    with pytest.raises(InvalidRequestError, match="missing parameter: code"):
        grant.validate({}, registered)
    with pytest.raises(UnauthorizedClientError):
        context.grants["password"].validate({"username": "a", "password": "b"}, registered)
