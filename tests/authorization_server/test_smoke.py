"""The quickest end-to-end check: a live server issues a client-credentials token."""

import httpx

from services.authorization_server.context import ServerContext
from tests.factories import make_client
from tests.harness.authorization_server import AuthorizationServer


def test_client_credentials_token_over_http(
    live_as: AuthorizationServer, live_context: ServerContext
) -> None:
    client, secret = make_client(
        live_context, grant_types=("client_credentials",), redirect_uris=()
    )
    assert secret is not None
    response = httpx.post(
        f"{live_as.url}/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["scope"] == "read"
    assert response.headers["cache-control"] == "no-store"
