"""RFC 7591 dynamic client registration (in-process), and the shared registration rules."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from services.authorization_server.registration import (
    RegistrationError,
    delete_client,
    update_client,
)
from services.authorization_server.tokens import read_access_token
from shared.crypto import hash_token
from tests.authorization_server.tokens_over_http import client_credentials
from tests.databases import TestDatabases
from tests.factories import make_client, make_user
from tests.harness.authorization_server import (
    AuthorizationServer,
    in_process_authorization_server,
)

INITIAL_TOKEN = "initial-access-token-for-tests"
CALLBACK = "https://dropletbook.example/callback"


@pytest.fixture(scope="module")
def registry(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    """A server that registers clients presenting the initial access token."""
    with in_process_authorization_server(
        databases, registration_access_token=SecretStr(INITIAL_TOKEN)
    ) as server:
        yield server


@pytest.fixture(scope="module")
def registry_context(registry: AuthorizationServer) -> ServerContext:
    return registry.context


def _register(
    server: AuthorizationServer, metadata: Any, *, token: str | None = INITIAL_TOKEN, **kwargs: Any
) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if "content" not in kwargs:
        kwargs["json"] = metadata
    return server.post("/v1/oauth/register", headers=headers, **kwargs)


def _load(context: ServerContext, client_id: str) -> Client | None:
    with Session(context.engine) as session:
        return repository.get_client(session=session, client_id=client_id)


def test_registers_a_confidential_client(
    registry: AuthorizationServer, registry_context: ServerContext
) -> None:
    response = _register(
        registry,
        {
            "client_name": "Dropletbook",
            "client_uri": "https://dropletbook.example",
            "redirect_uris": [CALLBACK],
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_post",
            "scope": "read",
            "logo_uri": "https://dropletbook.example/logo.png",  # unknown: ignored
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["client_secret_expires_at"] == 0
    assert isinstance(body["client_id_issued_at"], int)
    assert body["client_name"] == "Dropletbook"
    assert body["client_uri"] == "https://dropletbook.example"
    assert body["redirect_uris"] == [CALLBACK]
    assert body["grant_types"] == ["authorization_code", "refresh_token", "client_credentials"]
    assert body["response_types"] == ["code"]
    assert body["token_endpoint_auth_method"] == "client_secret_post"
    assert body["scope"] == "read"
    assert "logo_uri" not in body

    stored = _load(registry_context, body["client_id"])
    assert stored is not None
    assert stored.client_secret_hash == hash_token(body["client_secret"])
    assert stored.trusted is False
    assert stored.owner_id is None
    token = client_credentials(registry, body["client_id"], body["client_secret"])
    assert token.status_code == 200, token.text


def test_defaults_follow_rfc_7591(registry: AuthorizationServer) -> None:
    response = _register(registry, {"client_name": "Minimal", "redirect_uris": [CALLBACK]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["grant_types"] == ["authorization_code"]
    assert body["response_types"] == ["code"]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["scope"] == "read write"
    assert "client_secret" in body


def test_registers_a_public_client(
    registry: AuthorizationServer, registry_context: ServerContext
) -> None:
    response = _register(
        registry,
        {
            "client_name": "Droplet SPA",
            "redirect_uris": ["http://127.0.0.1:5173/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "implicit"],
            "response_types": ["token", "code"],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert "client_secret" not in body
    assert "client_secret_expires_at" not in body
    assert body["token_endpoint_auth_method"] == "none"
    assert sorted(body["response_types"]) == ["code", "token"]
    stored = _load(registry_context, body["client_id"])
    assert stored is not None
    assert stored.client_type == "public"
    assert stored.client_secret_hash is None


def test_grant_types_follow_response_types(registry: AuthorizationServer) -> None:
    response = _register(
        registry,
        {"client_name": "Implicit", "redirect_uris": [CALLBACK], "response_types": ["token"]},
    )
    assert response.status_code == 201, response.text
    assert response.json()["grant_types"] == ["implicit"]


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        pytest.param(
            {"redirect_uris": ["http://dropletbook.example/cb"]},
            "invalid_redirect_uri",
            id="http-not-loopback",
        ),
        pytest.param({"redirect_uris": [CALLBACK + "#x"]}, "invalid_redirect_uri", id="fragment"),
        pytest.param({"redirect_uris": ["not a url"]}, "invalid_redirect_uri", id="garbage"),
        pytest.param({"redirect_uris": ["/callback"]}, "invalid_redirect_uri", id="relative"),
        pytest.param({"redirect_uris": ["https://[::1/cb"]}, "invalid_redirect_uri", id="ipv6"),
        pytest.param({"redirect_uris": CALLBACK}, "invalid_redirect_uri", id="not-a-list"),
        pytest.param({"redirect_uris": [42]}, "invalid_redirect_uri", id="not-strings"),
        pytest.param({"redirect_uris": []}, "invalid_redirect_uri", id="empty"),
        pytest.param({"redirect_uris": None}, "invalid_redirect_uri", id="missing"),
        pytest.param(
            {"redirect_uris": [f"https://a.example/{i}" for i in range(11)]},
            "invalid_redirect_uri",
            id="too-many",
        ),
        pytest.param(
            {"grant_types": ["authorization_code", "password"]},
            "invalid_client_metadata",
            id="password-never-trusted",
        ),
        pytest.param(
            {"grant_types": ["authorization_code"], "response_types": ["token"]},
            "invalid_client_metadata",
            id="response-types-inconsistent",
        ),
        pytest.param(
            {"grant_types": ["client_credentials"], "response_types": ["code"]},
            "invalid_client_metadata",
            id="response-type-without-grant",
        ),
        pytest.param(
            {"response_types": ["code id_token"]}, "invalid_client_metadata", id="response-type"
        ),
        pytest.param(
            {"grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]},
            "invalid_client_metadata",
            id="unknown-grant",
        ),
        pytest.param({"grant_types": []}, "invalid_client_metadata", id="no-grant"),
        pytest.param(
            {"token_endpoint_auth_method": "private_key_jwt"},
            "invalid_client_metadata",
            id="auth-method",
        ),
        pytest.param(
            {"token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]},
            "invalid_client_metadata",
            id="public-client-credentials",
        ),
        pytest.param({"scope": "admin"}, "invalid_client_metadata", id="unknown-scope"),
        pytest.param({"scope": "read  write"}, "invalid_client_metadata", id="scope-syntax"),
        pytest.param({"client_uri": "javascript:alert(1)"}, "invalid_client_metadata", id="uri"),
        pytest.param({"client_name": "x" * 101}, "invalid_client_metadata", id="long-name"),
        pytest.param({"client_name": 7}, "invalid_client_metadata", id="name-type"),
        pytest.param({"grant_types": "authorization_code"}, "invalid_client_metadata", id="gt"),
    ],
)
def test_refused_metadata(
    registry: AuthorizationServer,
    registry_context: ServerContext,
    metadata: dict[str, Any],
    error: str,
) -> None:
    with Session(registry_context.engine) as session:
        before = len(session.exec(select(Client)).all())
    response = _register(registry, {"client_name": "Bad", "redirect_uris": [CALLBACK], **metadata})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == error
    description = body["error_description"]
    assert description.isascii() and '"' not in description and "\\" not in description
    with Session(registry_context.engine) as session:
        assert len(session.exec(select(Client)).all()) == before


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ['https://\u00e9xample.test/"cb"\u2028']}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://a.example/<script>"]}, "invalid_redirect_uri"),
        ({"grant_types": ['caf\u00e9"\\\u2028']}, "invalid_client_metadata"),
    ],
)
def test_error_description_stays_ascii(
    registry: AuthorizationServer, metadata: dict[str, Any], error: str
) -> None:
    response = _register(registry, {"client_name": "x", "redirect_uris": [CALLBACK], **metadata})
    assert response.status_code == 400
    assert response.json()["error"] == error
    description = response.json()["error_description"]
    assert description.isascii() and '"' not in description and "\\" not in description


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        pytest.param(b"{not json", "application/json", 400, id="malformed"),
        pytest.param(b"[1, 2]", "application/json", 400, id="array"),
        pytest.param(b'"text"', "application/json", 400, id="string"),
        pytest.param(b"", "application/json", 400, id="empty"),
        pytest.param(b"\xff\xfe{}", "application/json", 400, id="not-utf8"),
        pytest.param(b"[" * 8000 + b"]" * 8000, "application/json", 400, id="deep"),
        pytest.param(b'{"client_name": 1e999999}', "application/json", 400, id="huge-number"),
        pytest.param(b"client_name=x", "application/x-www-form-urlencoded", 400, id="form"),
        pytest.param(b"{}", "text/plain", 400, id="text"),
        pytest.param(
            json.dumps({"client_name": "x" * 20000}).encode(), "application/json", 413, id="big"
        ),
    ],
)
def test_bad_bodies_are_client_errors(
    registry: AuthorizationServer, content: bytes, content_type: str, status: int
) -> None:
    response = _register(registry, None, content=content, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert response.json()["error"] in ("invalid_request", "invalid_client_metadata")


def test_big_body_without_length_is_refused(registry: AuthorizationServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"client_name": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}'

    response = _register(
        registry, None, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("authorization", "says"),
    [
        pytest.param(None, "registration needs an initial access token", id="missing"),
        pytest.param(f"Basic {INITIAL_TOKEN}", "registration needs an initial access", id="basic"),
        pytest.param("Bearer wrong-token", "initial access token invalid", id="wrong"),
        pytest.param(f"Bearer {INITIAL_TOKEN}x", "initial access token invalid", id="longer"),
        pytest.param("Bearer \u00e9t\u00e9", "initial access token invalid", id="non-ascii"),
    ],
)
def test_initial_access_token_is_required(
    registry: AuthorizationServer, authorization: str | None, says: str
) -> None:
    """A developer without the right token is told what to send and where the setting is
    (not RFC 6750 §3.1's bare challenge: registration is set up by people, not machines)."""
    headers = [] if authorization is None else [(b"Authorization", authorization.encode())]
    response = registry.post(
        "/v1/oauth/register",
        json={"client_name": "x", "redirect_uris": [CALLBACK]},
        headers=headers,
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_token"
    assert body["error_description"].startswith(says)
    assert "AS_REGISTRATION_ACCESS_TOKEN" in body["error_description"]
    assert "README" in body["error_description"]
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert f'error_description="{body["error_description"]}"' in challenge


def test_token_is_checked_before_the_body(registry: AuthorizationServer) -> None:
    response = _register(
        registry,
        None,
        token="wrong",
        content=b"{oops",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401


def test_registration_is_disabled_by_default(as_server: AuthorizationServer) -> None:
    response = _register(as_server, {"client_name": "x", "redirect_uris": [CALLBACK]})
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"
    description = response.json()["error_description"]
    assert "disabled" in description
    assert "AS_REGISTRATION_ACCESS_TOKEN" in description and "AS_OPEN_REGISTRATION" in description


@pytest.fixture(scope="module")
def open_registry(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    with in_process_authorization_server(databases, open_registration=True) as server:
        yield server


def test_open_registration_needs_no_token(open_registry: AuthorizationServer) -> None:
    response = _register(open_registry, {"redirect_uris": [CALLBACK]}, token=None)
    assert response.status_code == 201, response.text
    assert response.json()["client_name"] == "Unnamed application"


def test_registered_client_completes_the_code_flow_to_consent(
    registry: AuthorizationServer, registry_context: ServerContext
) -> None:
    body = _register(registry, {"client_name": "Flow", "redirect_uris": [CALLBACK]}).json()
    user = make_user(registry_context, email="flow@example.com")
    assert user.id
    response = registry.get(
        "/v1/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": body["client_id"],
            "redirect_uri": CALLBACK,
            "scope": "read",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 303  # to the login page: the client is known and valid
    assert response.headers["location"].startswith("/login?next=")


def test_openapi_documents_registration(registry: AuthorizationServer) -> None:
    schema = registry.get("/openapi.json").json()
    operation = schema["paths"]["/v1/oauth/register"]["post"]
    assert "201" in operation["responses"]
    # The initial access token, or none where registration is open.
    assert operation["security"] == [{"bearer": []}, {}]
    assert "application/json" in operation["requestBody"]["content"]
    assert "bearer" in schema["components"]["securitySchemes"]


# The shared rules, without HTTP: what the portal and /v1/apps/self both rely on.


def test_update_client_validates_before_changing_anything(context: ServerContext) -> None:
    client, _ = make_client(context)
    with Session(context.engine, expire_on_commit=False) as session:
        stored = repository.get_client(session=session, client_id=client.client_id)
        assert stored is not None
        with pytest.raises(RegistrationError) as excinfo:
            update_client(
                session, stored, name="New name", redirect_uris=["http://evil.example/cb"]
            )
        assert excinfo.value.field == "redirect_uris"
        assert stored.name == client.name
    assert _load(context, client.client_id) == client


def test_update_client_keeps_password_only_for_trusted(context: ServerContext) -> None:
    trusted, _ = make_client(context, trusted=True, grant_types=("password",), redirect_uris=())
    plain, _ = make_client(context, name="Plain")
    with Session(context.engine, expire_on_commit=False) as session:
        update_client(session, trusted, description="First party", grant_types=["password"])
        with pytest.raises(RegistrationError, match="trusted"):
            update_client(session, plain, grant_types=["authorization_code", "password"])
    stored = _load(context, trusted.client_id)
    assert stored is not None
    assert stored.description == "First party"
    assert stored.grant_types == ["password"]


def test_delete_client_revokes_its_access_tokens(context: ServerContext) -> None:
    user = make_user(context)
    client, _ = make_client(
        context, trusted=True, grant_types=("password", "refresh_token"), redirect_uris=()
    )
    body = asyncio.run(
        context.grants["password"].exchange(
            {"grant_type": "password", "username": user.email, "password": "correct horse battery"},
            client,
        )
    )
    claims = read_access_token(
        body["access_token"], keys=context.keys, issuer=context.settings.issuer
    )
    assert claims is not None
    jti = str(claims["jti"])
    with Session(context.engine, expire_on_commit=False) as session:
        assert not repository.is_access_token_revoked(session=session, jti=jti)
        delete_client(
            session,
            client,
            access_token_ttl=context.settings.access_token_ttl,
            client_cache_ttl=context.settings.client_cache_ttl,
        )
        assert repository.get_client(session=session, client_id=client.client_id) is None
        assert repository.is_access_token_revoked(session=session, jti=jti)
        assert repository.is_client_revoked(
            session=session,
            client_id=client.client_id,
            issued_at=int(claims["iat"]),
            client_token=False,
        )
        assert (
            repository.get_refresh_token(
                session=session, token_hash=hash_token(body["refresh_token"])
            )
            is None
        )
