"""The token endpoint: a route in the table, documented like one, behind the same handlers."""

import asyncio
import logging
from typing import Any

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.main import create_app
from services.authorization_server.settings import Settings
from tests.factories import VERIFIER, make_auth_code, make_client, make_user


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("openapi") / "as.db"  # the async engine needs a file
    app = create_app(Settings(environment="development", database_url=f"sqlite:///{database}"))
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
        # The app's one `server_error` handler answers, then (as Starlette does for every
        # route) re-raises for the server to log: the transport must not raise it here.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
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


def _post_token(app: Any, **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://as") as http:
            return await http.request(url="/v1/oauth/token", **kwargs)

    return asyncio.run(send())


def test_token_endpoint_is_in_the_route_table(context: ServerContext) -> None:
    app = create_app(context.settings)
    paths = [getattr(route, "path", None) for route in app.router.routes]
    assert paths[:2] == ["/healthz", "/v1/oauth/token"]
    app.state.context.engine.dispose()


def test_other_methods_get_the_routers_405(context: ServerContext) -> None:
    app = create_app(context.settings)
    response = _post_token(app, method="GET", headers={"Origin": "https://spa.example"})
    app.state.context.engine.dispose()
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["access-control-allow-origin"] == "*"


def test_application_middleware_sees_token_requests(context: ServerContext) -> None:
    app = create_app(context.settings)
    seen: list[str] = []

    class Recorder:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope.get("path", ""))
            await self.inner(scope, receive, send)

    app.add_middleware(Recorder)
    response = _post_token(
        app,
        method="POST",
        data={"grant_type": "nonsense"},
        headers={"Origin": "https://spa.example"},
    )
    app.state.context.engine.dispose()
    assert seen == ["/v1/oauth/token"]
    assert response.status_code in (400, 401)
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "no-store"


def test_internal_detail_is_logged_never_sent(
    context: ServerContext, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(context.settings)
    app.state.context.keys.ensure_key()  # what the lifespan does
    client, secret = make_client(context, grant_types=("authorization_code",))
    user = make_user(context, email="replay@example.com")
    code = make_auth_code(context, client=client, user=user)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://127.0.0.1:8080/callback",
        "code_verifier": VERIFIER,
    }
    auth = (client.client_id, secret or "")
    assert _post_token(app, method="POST", data=form, auth=auth).status_code == 200
    with caplog.at_level(logging.INFO, logger="shared.errors"):
        replay = _post_token(app, method="POST", data=form, auth=auth)
    app.state.context.engine.dispose()
    assert replay.json() == {
        "error": "invalid_grant",
        "error_description": "authorization code invalid",
    }
    assert "already used" in caplog.text
