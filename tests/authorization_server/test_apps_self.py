"""/v1/apps/self over HTTP (in-process): an app reads and updates its own registration."""

import time
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from shared.jwt import generate_private_pem, load_signing_key, sign_jwt
from tests.authorization_server.tokens_over_http import client_credentials
from tests.factories import PASSWORD, make_client, make_user
from tests.harness.authorization_server import AuthorizationServer

SELF = "/v1/apps/self"
CALLBACK = "http://127.0.0.1:8080/callback"


@pytest.fixture
def app(as_context: ServerContext) -> tuple[Client, str]:
    client, secret = make_client(
        as_context,
        grant_types=("authorization_code", "client_credentials"),
        redirect_uris=(CALLBACK,),
    )
    assert secret is not None
    return client, secret


def _resource(as_server: AuthorizationServer) -> str:
    resource: str = as_server.settings.apps_api_resource  # type: ignore[attr-defined]
    return resource


def _token(
    as_server: AuthorizationServer, app: tuple[Client, str], scope: str, *, for_api: bool = True
) -> str:
    """A client-credentials token for this API (RFC 8707 `resource`), or for the cloud API."""
    resource = _resource(as_server) if for_api else None
    response = client_credentials(
        as_server, app[0].client_id, app[1], scope=scope, resource=resource
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _get(as_server: AuthorizationServer, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return as_server.get(SELF, headers=headers)


def _patch(as_server: AuthorizationServer, token: str, body: Any) -> httpx.Response:
    return as_server.patch(SELF, headers={"Authorization": f"Bearer {token}"}, json=body)


def _load(context: ServerContext, client_id: str) -> Client | None:
    with Session(context.engine) as session:
        return repository.get_client(session=session, client_id=client_id)


def _challenge(response: httpx.Response) -> str:
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    return challenge


def test_reads_its_own_registration(
    as_server: AuthorizationServer, app: tuple[Client, str]
) -> None:
    response = _get(as_server, _token(as_server, app, "read"))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "client_id": app[0].client_id,
        "client_name": "Dropletbook",
        "client_uri": "https://dropletbook.example",
        "description": "",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "client_credentials"],
        "scope": "read write",
        "client_type": "confidential",
    }
    assert app[0].client_secret_hash is not None
    assert app[0].client_secret_hash not in response.text
    assert "secret" not in response.text


def test_updates_description_and_redirect_uris(
    as_server: AuthorizationServer, as_context: ServerContext, app: tuple[Client, str]
) -> None:
    token = _token(as_server, app, "read write")
    new_uris = ["https://dropletbook.example/callback", "http://localhost:8080/callback"]
    response = _patch(as_server, token, {"description": "Now on HTTPS", "redirect_uris": new_uris})
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "Now on HTTPS"
    assert response.json()["redirect_uris"] == new_uris

    assert _get(as_server, token).json()["redirect_uris"] == new_uris
    stored = _load(as_context, app[0].client_id)
    assert stored is not None
    assert stored.description == "Now on HTTPS"
    assert stored.redirect_uris == new_uris
    assert stored.client_secret_hash == app[0].client_secret_hash


def test_partial_update_keeps_the_rest(
    as_server: AuthorizationServer, as_context: ServerContext, app: tuple[Client, str]
) -> None:
    response = _patch(as_server, _token(as_server, app, "write"), {"description": "Only this"})
    assert response.status_code == 200, response.text
    stored = _load(as_context, app[0].client_id)
    assert stored is not None
    assert stored.description == "Only this"
    assert stored.redirect_uris == [CALLBACK]


def test_update_needs_write_scope(
    as_server: AuthorizationServer, as_context: ServerContext, app: tuple[Client, str]
) -> None:
    response = _patch(as_server, _token(as_server, app, "read"), {"description": "Sneaky"})
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    challenge = _challenge(response)
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="write"' in challenge
    stored = _load(as_context, app[0].client_id)
    assert stored is not None
    assert stored.description == ""


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(
            {"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri", id="http"
        ),
        pytest.param(
            {"redirect_uris": ["https://a.example/cb#f"]}, "invalid_redirect_uri", id="fragment"
        ),
        pytest.param({"redirect_uris": ["not a url"]}, "invalid_redirect_uri", id="garbage"),
        pytest.param({"redirect_uris": []}, "invalid_redirect_uri", id="empty-for-code"),
        pytest.param({"redirect_uris": "https://a.example"}, "invalid_redirect_uri", id="str"),
        pytest.param({"description": "x" * 1001}, "invalid_client_metadata", id="long"),
        pytest.param({"description": 5}, "invalid_client_metadata", id="type"),
        pytest.param({"grant_types": ["password"]}, "invalid_client_metadata", id="not-changeable"),
        pytest.param({"client_name": "Renamed"}, "invalid_client_metadata", id="name"),
    ],
)
def test_invalid_update_changes_nothing(
    as_server: AuthorizationServer,
    as_context: ServerContext,
    app: tuple[Client, str],
    body: dict[str, Any],
    error: str,
) -> None:
    response = _patch(as_server, _token(as_server, app, "write"), body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    stored = _load(as_context, app[0].client_id)
    assert stored is not None
    assert stored.model_dump() == app[0].model_dump()


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b"{oops", "application/json", id="malformed"),
        pytest.param(b"[]", "application/json", id="array"),
        pytest.param(b"description=x", "application/x-www-form-urlencoded", id="form"),
    ],
)
def test_bad_bodies_are_client_errors(
    as_server: AuthorizationServer, app: tuple[Client, str], content: bytes, content_type: str
) -> None:
    response = as_server.patch(
        SELF,
        headers={
            "Authorization": f"Bearer {_token(as_server, app, 'write')}",
            "Content-Type": content_type,
        },
        content=content,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_missing_token_gets_a_bare_challenge(as_server: AuthorizationServer) -> None:
    """RFC 6750 §3.1: no credentials, no error information, in the challenge or the body."""
    response = _get(as_server, None)
    assert response.status_code == 401
    assert response.json() == {}
    assert _challenge(response).startswith("Bearer realm=")
    assert "error" not in _challenge(response)


def _forged_token(as_server: AuthorizationServer, client_id: str, issuer: str) -> str:
    """Signed by another key under the server's own `kid`."""
    kid = as_server.get("/.well-known/jwks.json").json()["keys"][0]["kid"]
    key = load_signing_key(kid=kid, algorithm="ES256", private_pem=generate_private_pem("ES256"))
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": client_id,
        "aud": f"{issuer}/v1/apps",
        "client_id": client_id,
        "scope": "read write",
        "iat": now,
        "exp": now + 600,
        "jti": "forged",
    }
    return sign_jwt(claims, key=key)


@pytest.mark.parametrize("kind", ["garbage", "forged", "tampered"])
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_invalid_tokens_are_refused(
    as_server: AuthorizationServer, app: tuple[Client, str], kind: str, method: str
) -> None:
    if kind == "garbage":
        token = "not-a-jwt"
    elif kind == "forged":
        token = _forged_token(as_server, app[0].client_id, as_server.settings.issuer)  # type: ignore[attr-defined]
    else:
        header, payload, signature = _token(as_server, app, "read").split(".")
        token = f"{header}.{payload}.{signature[:-4]}AAAA"
    response = as_server.request(
        method,
        f"{SELF}",
        headers={"Authorization": f"Bearer {token}"},
        json={"description": "x"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in _challenge(response)


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_cloud_api_tokens_are_refused(
    as_server: AuthorizationServer, as_context: ServerContext, app: tuple[Client, str], method: str
) -> None:
    """RFC 9068 §4: a token whose `aud` is the cloud API (what a resource server, or a log,
    holds) cannot read or change the app's registration."""
    token = _token(as_server, app, "read write", for_api=False)
    response = as_server.request(
        method,
        f"{SELF}",
        headers={"Authorization": f"Bearer {token}"},
        json={"redirect_uris": ["https://evil.example/cb"]},
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert f"resource={_resource(as_server)}" in response.json()["error_description"]
    assert 'error="invalid_token"' in _challenge(response)
    stored = _load(as_context, app[0].client_id)
    assert stored is not None
    assert stored.redirect_uris == [CALLBACK]


def test_user_tokens_are_refused(as_server: AuthorizationServer, as_context: ServerContext) -> None:
    user = make_user(as_context, email="self-user@example.com")
    client, secret = make_client(
        as_context, trusted=True, grant_types=("password",), redirect_uris=()
    )
    assert secret is not None
    response = as_server.post(
        "/v1/oauth/token",
        data={"grant_type": "password", "username": user.email, "password": PASSWORD},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.text
    refused = _get(as_server, response.json()["access_token"])
    assert refused.status_code == 401
    assert "client-credentials" in refused.json()["error_description"]


def test_revoked_token_is_refused(as_server: AuthorizationServer, app: tuple[Client, str]) -> None:
    token = _token(as_server, app, "read write")
    assert _get(as_server, token).status_code == 200
    revoked = as_server.post(
        "/v1/oauth/revoke", data={"token": token}, auth=(app[0].client_id, app[1])
    )
    assert revoked.status_code == 200
    for response in (_get(as_server, token), _patch(as_server, token, {"description": "x"})):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"


def test_token_of_a_deleted_client_is_refused(
    as_server: AuthorizationServer, as_context: ServerContext, app: tuple[Client, str]
) -> None:
    token = _token(as_server, app, "read")
    with Session(as_context.engine) as session:
        stored = repository.get_client(session=session, client_id=app[0].client_id)
        assert stored is not None
        session.delete(stored)
        session.commit()
    response = _get(as_server, token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_openapi_documents_bearer_security(as_server: AuthorizationServer) -> None:
    schema = as_server.get("/openapi.json").json()
    for method in ("get", "patch"):
        operation = schema["paths"][SELF][method]
        assert operation["security"] == [{"bearer": []}]
        assert {"200", "401", "403"} <= set(operation["responses"])
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
