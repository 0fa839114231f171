"""RFC 6750 answers of protected routes: status, `WWW-Authenticate` and JSON body."""

import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.jwt import SigningKey
from tests.resource_server.conftest import (
    FakeAuthorizationServer,
    InProcessApi,
    bearer,
    claims_for,
    make_token,
    new_key,
    public_pem,
    unsigned_token,
)

REALM = 'realm="dropletbook"'


def _challenge(description: str) -> str:
    return f'Bearer {REALM}, error="invalid_token", error_description="{description}"'


def test_missing_token_gets_a_bare_challenge(api: InProcessApi) -> None:
    response = api.get("/v2/account")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == f"Bearer {REALM}"
    assert response.json() == {}  # RFC 6750 §3.1: no error code or other error information
    assert response.headers["cache-control"] == "no-store"


def test_other_scheme_is_treated_as_no_bearer_token(api: InProcessApi) -> None:
    response = api.get("/v2/account", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == f"Bearer {REALM}"
    assert response.json() == {}


def _now() -> int:
    """Read when a token is built: the suite can run for longer than these offsets."""
    return int(time.time())


BAD: list[Any] = [
    pytest.param(lambda k: "a b", "malformed token", id="not-b64token"),
    pytest.param(lambda k: "", "malformed token", id="empty"),
    pytest.param(lambda k: "abc.def", "malformed token", id="two-parts"),
    pytest.param(
        lambda k: unsigned_token({"alg": "none", "kid": k.kid, "typ": "at+jwt"}, claims_for()),
        "token algorithm not accepted",
        id="alg-none",
    ),
    pytest.param(
        lambda k: unsigned_token(
            {"alg": "HS256", "kid": k.kid, "typ": "at+jwt"}, claims_for(), secret=public_pem(k)
        ),
        "token algorithm not accepted",
        id="hs256-public-key",
    ),
    pytest.param(
        lambda k: make_token(new_key(kid="nope")), "token signed with an unknown key", id="bad-kid"
    ),
    pytest.param(
        lambda k: make_token(k, iat=_now() - 900, exp=_now() - 600), "token expired", id="expired"
    ),
    pytest.param(lambda k: make_token(k, aud="http://x.test"), "token audience invalid", id="aud"),
    pytest.param(lambda k: make_token(k, iss="http://x.test"), "token issuer invalid", id="iss"),
    pytest.param(lambda k: make_token(k, nbf=_now() + 600), "token not yet valid", id="nbf"),
    pytest.param(lambda k: make_token(k, typ="JWT"), "token type is not at+jwt", id="typ"),
]


@pytest.mark.parametrize(("build", "description"), BAD)
def test_bad_tokens_get_invalid_token(
    api: InProcessApi,
    signing_key: SigningKey,
    build: Callable[[SigningKey], str],
    description: str,
) -> None:
    response = api.get("/v2/account", headers=bearer(build(signing_key)))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == _challenge(description)
    assert response.json() == {"error": "invalid_token", "error_description": description}


def test_insufficient_scope(api: InProcessApi, signing_key: SigningKey) -> None:
    token = make_token(signing_key, scope="read")
    body = {"name": "web-1", "region": "nyc1", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}
    response = api.post("/v2/droplets", json=body, headers=bearer(token))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        f'Bearer {REALM}, error="insufficient_scope", '
        'error_description="the token lacks a required scope", scope="write"'
    )
    assert response.json()["error"] == "insufficient_scope"
    assert (
        api.get("/v2/droplets", headers=bearer(make_token(signing_key, scope="write"))).json()[
            "error"
        ]
        == "insufficient_scope"
    )


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        pytest.param("/v2/account?access_token={t}", {}, id="query-string"),
        pytest.param("/v2/account?page=1&access%5Ftoken={t}", {}, id="query-percent-encoded"),
        pytest.param("/v2/account?access_token={t}", {"Authorization": "Bearer {t}"}, id="twice"),
        pytest.param(
            "/v2/account",
            [("Authorization", "Bearer {t}"), ("Authorization", "Bearer {t}")],
            id="two-headers",
        ),
    ],
)
def test_token_sent_twice_or_in_query_is_invalid_request(
    api: InProcessApi, signing_key: SigningKey, url: str, headers: Any
) -> None:
    token = make_token(signing_key)
    if isinstance(headers, dict):
        headers = {name: value.format(t=token) for name, value in headers.items()}
    else:
        headers = [(name, value.format(t=token)) for name, value in headers]
    response = api.get(url.format(t=token), headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["www-authenticate"].startswith(
        f'Bearer {REALM}, error="invalid_request", error_description="'
    )


def test_revoked_token_is_refused_after_the_next_poll(
    api: InProcessApi, fake_as: FakeAuthorizationServer, signing_key: SigningKey
) -> None:
    token = make_token(signing_key, jti="soon-revoked")
    assert api.get("/v2/account", headers=bearer(token)).status_code == 200
    fake_as.revoked = [{"jti": "soon-revoked", "exp": int(time.time()) + 300}]
    api.sleep(0.2)  # the poll interval is 0.05 s in these tests
    response = api.get("/v2/account", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == _challenge("token revoked")


def test_deleted_clients_token_is_refused_after_the_next_poll(
    api: InProcessApi, fake_as: FakeAuthorizationServer, signing_key: SigningKey
) -> None:
    now = int(time.time())
    token = make_token(signing_key, client_id="gone-app", sub="gone-app", iat=now)
    assert api.get("/v2/account", headers=bearer(token)).status_code == 200
    fake_as.revoked_clients = [{"client_id": "gone-app", "revoked_at": now, "exp": now + 3600}]
    api.sleep(0.2)  # the poll interval is 0.05 s in these tests
    response = api.get("/v2/account", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == _challenge("token revoked")


def test_openapi_declares_the_bearer_scheme_and_scopes(api: InProcessApi) -> None:
    schema = api.get("/openapi.json").json()
    scheme = schema["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    paths = schema["paths"]
    assert paths["/v2/account"]["get"]["security"] == [{"bearer": ["read"]}]
    assert paths["/v2/droplets"]["get"]["security"] == [{"bearer": ["read"]}]
    assert paths["/v2/droplets"]["post"]["security"] == [{"bearer": ["write"]}]
    assert paths["/v2/droplets/{droplet_id}"]["get"]["security"] == [{"bearer": ["read"]}]
    assert paths["/v2/droplets/{droplet_id}"]["delete"]["security"] == [{"bearer": ["write"]}]
    assert "security" not in paths["/healthz"]["get"]
    assert api.get("/docs").status_code == 200


def test_openapi_documents_the_bare_401_body(api: InProcessApi) -> None:
    """The 401 answer is either an error body or `{}` (no token at all)."""
    schema = api.get("/openapi.json").json()
    answer = schema["paths"]["/v2/account"]["get"]["responses"]["401"]
    refs = {s["$ref"] for s in answer["content"]["application/json"]["schema"]["anyOf"]}
    assert refs == {
        "#/components/schemas/ErrorResponse",
        "#/components/schemas/NoCredentialsResponse",
    }
    empty = schema["components"]["schemas"]["NoCredentialsResponse"]
    assert empty["additionalProperties"] is False and not empty.get("properties")
