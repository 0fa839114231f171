"""What the three OpenAPI documents say, and the answers they describe, without processes:
the apps are built in-process (no lifespan is needed to route or to document). The live,
generated checks are `tests/e2e/test_api_contract.py` (schemathesis)."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from fastapi import FastAPI, Query
from starlette.responses import Response

from services.authorization_server.main import create_app as create_authorization_server
from services.demo_client.main import create_app as create_demo_client
from services.demo_client.settings import Settings as ClientSettings
from services.resource_server.main import create_app as create_resource_server
from services.resource_server.settings import Settings as ResourceSettings
from shared.error_handlers import install_error_handlers, install_method_not_allowed
from shared.errors import MissingTokenError
from shared.openapi import install_openapi
from tests.factories import test_settings

HTML_PAGES = [
    ("get", "/login"),
    ("post", "/login"),
    ("get", "/signup"),
    ("post", "/signup"),
    ("get", "/logout"),
    ("get", "/account/applications"),
    ("get", "/developer/apps"),
    ("get", "/developer/apps/new"),
    ("get", "/developer/apps/{client_id}"),
    ("get", "/v1/oauth/authorize"),
]


@pytest.fixture
def authorization_server(database_url: str) -> FastAPI:
    return create_authorization_server(test_settings(database_url))


@pytest.fixture
def resource_server(database_url: str) -> FastAPI:
    return create_resource_server(
        ResourceSettings(
            environment="development",
            issuer="http://127.0.0.1:8000",
            audience="http://127.0.0.1:8001",
            database_url=database_url,
        )
    )


@pytest.fixture
def demo_client(database_url: str) -> FastAPI:
    return create_demo_client(
        ClientSettings(
            environment="development",
            database_url=database_url,
            public_url="http://127.0.0.1:8080",
            issuer="http://127.0.0.1:8000",
            rs_url="http://127.0.0.1:8001",
        )
    )


def _call(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request, in-process, without the lifespan (routing and errors only)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.request(method, path, **kwargs)

    with start_blocking_portal() as portal:
        return portal.call(send)


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


# --- 405: every method of the path in `Allow` ------------------------------------------


@pytest.mark.parametrize(
    ("service", "method", "path", "allow"),
    [
        pytest.param(
            "authorization_server", "DELETE", "/v1/apps/self", "GET, PATCH", id="apps-self"
        ),
        pytest.param("authorization_server", "POST", "/v1/oauth/authorize", "GET", id="authorize"),
        pytest.param("resource_server", "PUT", "/v2/droplets/1", "DELETE, GET", id="droplet"),
        pytest.param("resource_server", "OPTIONS", "/v2/droplets", "GET, POST", id="droplets"),
        pytest.param("demo_client", "PUT", "/password", "GET, POST", id="demo-password"),
    ],
)
def test_method_not_allowed_lists_every_method_of_the_path(
    request: pytest.FixtureRequest, service: str, method: str, path: str, allow: str
) -> None:
    """RFC 9110 §15.5.6: Starlette named only the first route's methods (GET of GET+PATCH)."""
    response = _call(request.getfixturevalue(service), method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["error"] == "method_not_allowed"


def test_allow_header_without_the_other_handlers() -> None:
    """`install_method_not_allowed` alone, for an app that renders its other errors itself."""
    app = FastAPI()
    app.add_api_route("/thing", lambda: {}, methods=["GET"])
    app.add_api_route("/thing", lambda: {}, methods=["PATCH"])
    app.add_api_route("/other", lambda: {}, methods=["POST"])
    install_method_not_allowed(app)
    response = _call(app, "DELETE", "/thing")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, PATCH")


# --- RFC 6750 §3.1: no credentials, no error information -----------------------------


def test_missing_token_error_has_an_empty_body() -> None:
    error = MissingTokenError(realm="api")
    assert error.body() == {}
    assert error.headers() == {"WWW-Authenticate": 'Bearer realm="api"'}


def test_apps_self_without_a_token_is_a_bare_challenge(authorization_server: FastAPI) -> None:
    response = _call(authorization_server, "GET", "/v1/apps/self")
    assert response.status_code == 401
    assert response.json() == {}
    assert "error" not in response.headers["www-authenticate"]


# --- The documents ----------------------------------------------------------------------


def test_authorize_documents_its_pages_and_redirects(authorization_server: FastAPI) -> None:
    operation = authorization_server.openapi()["paths"]["/v1/oauth/authorize"]["get"]
    responses = operation["responses"]
    assert set(responses) == {"200", "303", "400"}
    assert set(responses["200"]["content"]) == {"text/html"}
    assert set(responses["400"]["content"]) == {"text/html"}
    assert "Location" in responses["303"]["headers"]
    parameters = {p["name"]: p["required"] for p in operation["parameters"]}
    assert parameters["client_id"] and parameters["response_type"]
    assert not parameters["state"]


def test_authorize_is_get_only_and_the_consent_form_posts_elsewhere(
    authorization_server: FastAPI,
) -> None:
    paths = authorization_server.openapi()["paths"]
    assert set(paths["/v1/oauth/authorize"]) == {"get"}
    decision = paths["/v1/oauth/authorize/decision"]["post"]
    assert "application/x-www-form-urlencoded" in decision["requestBody"]["content"]
    assert {"303", "400", "403", "429"} <= set(decision["responses"])


@pytest.mark.parametrize(("method", "path"), HTML_PAGES)
def test_pages_are_html_operations(authorization_server: FastAPI, method: str, path: str) -> None:
    responses = authorization_server.openapi()["paths"][path][method]["responses"]
    for status, response in responses.items():
        content = response.get("content", {})
        if status.startswith("3"):
            assert not content and "Location" in response["headers"], status
        elif status != "413":
            assert set(content) == {"text/html"}, status


@pytest.mark.parametrize("path", ["/v1/oauth/revoke", "/v1/oauth/introspect", "/v1/oauth/token"])
def test_client_authentication_is_basic_or_in_the_form(
    authorization_server: FastAPI, path: str
) -> None:
    """`{}` stands for client_secret_post and, where served, a public client's client_id."""
    operation = authorization_server.openapi()["paths"][path]["post"]
    assert operation["security"] == [{"clientBasic": []}, {}]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"client_id", "client_secret"} <= set(form["properties"])


def test_revoke_answers_an_empty_200(authorization_server: FastAPI) -> None:
    responses = authorization_server.openapi()["paths"]["/v1/oauth/revoke"]["post"]["responses"]
    assert "content" not in responses["200"]


def test_apps_self_documents_the_bare_401(authorization_server: FastAPI) -> None:
    answer = authorization_server.openapi()["paths"]["/v1/apps/self"]["get"]["responses"]["401"]
    refs = {s["$ref"] for s in answer["content"]["application/json"]["schema"]["anyOf"]}
    assert refs == {
        "#/components/schemas/ErrorResponse",
        "#/components/schemas/NoCredentialsResponse",
    }


@pytest.mark.parametrize("service", ["authorization_server", "resource_server"])
def test_bad_input_is_documented_as_400_invalid_request(
    request: pytest.FixtureRequest, service: str
) -> None:
    """The shared handler answers it so; FastAPI's `422 Validation Error` is never sent."""
    schema = request.getfixturevalue(service).openapi()
    for method, path, operation in _operations(schema):
        answer = operation["responses"].get("422", {})
        assert "HTTPValidationError" not in str(answer), (method, path)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    droplets = schema["paths"].get("/v2/droplets")
    if droplets:
        error = droplets["get"]["responses"]["400"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorResponse"}


def test_resource_server_documents_its_real_422(resource_server: FastAPI) -> None:
    """The droplet limit is a 422 with an error body, unlike FastAPI's validation 422."""
    responses = resource_server.openapi()["paths"]["/v2/droplets"]["post"]["responses"]
    assert "droplet_limit_exceeded" in responses["422"]["description"]
    schema = responses["422"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}


def test_demo_client_documents_pages_and_redirects(demo_client: FastAPI) -> None:
    for method, path, operation in _operations(demo_client.openapi()):
        if path == "/healthz":
            continue
        for status, response in operation["responses"].items():
            content = set(response.get("content", {}))
            if status == "303":
                assert not content and "Location" in response["headers"], (method, path)
            elif status in {"200", "400", "401", "403", "502"}:
                assert content == {"text/html"}, (method, path, status)


def test_install_openapi_replaces_fastapis_validation_answer() -> None:
    app = FastAPI()

    @app.get("/items")
    def items(limit: int = Query(1, ge=1)) -> Response:
        return Response()

    install_error_handlers(app)
    install_openapi(app)
    responses = app.openapi()["paths"]["/items"]["get"]["responses"]
    assert "422" not in responses
    assert "invalid_request" in responses["400"]["description"]
    assert _call(app, "GET", "/items?limit=0").status_code == 400
