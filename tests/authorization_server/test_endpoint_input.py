"""BareRequestRoute: the token endpoint skips FastAPI's request handling, not its docs."""

from typing import Any

import pytest
from fastapi import APIRouter, Request
from starlette.responses import Response

from services.authorization_server.endpoint_input import BareRequestRoute
from services.authorization_server.main import create_app
from services.authorization_server.settings import Settings


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    app = create_app(Settings(environment="test", database_url="sqlite://"))
    schema: dict[str, Any] = app.openapi()
    return schema


def test_token_endpoint_keeps_its_openapi_operation(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/v1/oauth/token"]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["grant_type"]
    assert "client_credentials" in form["properties"]["grant_type"]["enum"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/TokenResponse"}
    assert {"400", "401"} <= set(operation["responses"])
    assert operation["security"] == [{"clientBasic": []}, {}]


async def _extra_parameter(request: Request, extra: int) -> Response:
    return Response()


def _not_async(request: Request) -> Response:
    return Response()


@pytest.mark.parametrize(
    "endpoint",
    [pytest.param(_extra_parameter, id="extra-parameter"), pytest.param(_not_async, id="sync-def")],
)
def test_only_bare_async_request_endpoints_are_accepted(endpoint: Any) -> None:
    """Anything FastAPI would have injected or run in a thread would silently break."""
    router = APIRouter(route_class=BareRequestRoute)
    with pytest.raises(TypeError):
        router.add_api_route("/x", endpoint, methods=["POST"])
