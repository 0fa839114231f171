"""The token endpoint is served in front of the router: documented like a route, and safe."""

import asyncio
from typing import Any

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.main import create_app
from services.authorization_server.settings import Settings
from tests.factories import make_client


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    app = create_app(Settings(environment="development", database_url="sqlite://"))
    schema: dict[str, Any] = app.openapi()
    return schema


def test_token_endpoint_has_its_openapi_operation(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/v1/oauth/token"]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["grant_type"]
    assert "client_credentials" in form["properties"]["grant_type"]["enum"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/TokenResponse"}
    assert {"400", "401", "413"} <= set(operation["responses"])
    assert operation["security"] == [{"clientBasic": []}, {}]


def test_every_referenced_schema_exists(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    token = schemas["TokenResponse"]
    assert {"access_token", "token_type", "expires_in", "scope"} <= set(token["required"])
    assert "UserInfo" in schemas
    assert "ErrorResponse" in schemas
    assert "clientBasic" in openapi["components"]["securitySchemes"]


def test_unexpected_failure_is_a_detail_free_server_error(
    context: ServerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(context.settings)
    client, secret = make_client(context, grant_types=("client_credentials",), redirect_uris=())
    grant = app.state.context.grants["client_credentials"]

    def explode(form: object, client: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(grant, "exchange", explode)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://as") as http:
            return await http.post(
                "/v1/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, secret or ""),
            )

    try:
        response = asyncio.run(post())
    finally:
        app.state.context.engine.dispose()
    assert response.status_code == 500
    assert response.json() == {"error": "server_error"}
    assert response.headers["cache-control"] == "no-store"
