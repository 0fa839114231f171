"""What the OpenAPI documents say, in one place, so that each says what its service answers.

Routes name their answers with the response sets built here (`responses=` in the decorator):
OAuth JSON errors (RFC 6749 §5.2, RFC 6750 §3), HTML pages and redirects. `install_openapi`
then adjusts the generated document once: security schemes, paths and models FastAPI does not
see, and, for services whose `shared.error_handlers` answer bad input with 400
`invalid_request`, that answer in place of FastAPI's `422 Validation Error`.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import HTMLResponse, Response

Responses = dict[int | str, dict[str, Any]]

_FASTAPI_VALIDATION_MODELS = ("HTTPValidationError", "ValidationError")
_HTML = {"text/html": {"schema": {"type": "string"}}}
_CONSTRAINTS = {"enum", "format", "maxLength", "minLength", "pattern", "const"}


class ErrorResponse(BaseModel):
    """RFC 6749 §5.2 / RFC 6750 §3.1 error body."""

    error: str = Field(examples=["invalid_request"])
    error_description: str | None = None


class NoCredentialsResponse(BaseModel):
    """The body `{}` of a request without any token (RFC 6750 §3.1: no error information)."""

    model_config = ConfigDict(extra="forbid")


def json_errors(descriptions: Mapping[int, str]) -> Responses:
    """JSON error answers (`ErrorResponse`), one description per status."""
    return {
        status: {"model": ErrorResponse, "description": text}
        for status, text in descriptions.items()
    }


def bearer_errors(note: str = "") -> Responses:
    """RFC 6750 §3 answers of a bearer-protected operation: 401 with `{}` and a bare challenge
    when no token is sent, else the error body and a challenge naming the error."""
    return {
        401: {
            "model": ErrorResponse | NoCredentialsResponse,
            "description": "invalid_token, with a Bearer challenge"
            f"{note}; no token at all: `{{}}` and a bare"
            ' `Bearer realm="..."` challenge (RFC 6750 §3.1)',
            "headers": {"WWW-Authenticate": _header("The Bearer challenge (RFC 6750 §3)")},
        },
        403: {
            "model": ErrorResponse,
            "description": "insufficient_scope, with the scope needed in the challenge",
            "headers": {"WWW-Authenticate": _header("The Bearer challenge (RFC 6750 §3)")},
        },
    }


def html_pages(descriptions: Mapping[int, str]) -> Responses:
    """HTML answers (a page a person reads), one description per status."""
    return {
        status: {"description": text, "content": _HTML} for status, text in descriptions.items()
    }


def redirect(description: str, status: int = 303) -> Responses:
    """A redirect, with its `Location`."""
    location = _header("Where the browser goes next", format_="uri-reference")
    return {status: {"description": description, "headers": {"Location": location}}}


# The answers every HTML form of the authorization server may give besides its own.
FORM_PAGE_ERRORS = html_pages(
    {
        400: "The form again, saying what to fix; or an error page (`invalid_request`)",
        403: "Error page: the CSRF token is missing or stale (reload the form)",
        413: "Error page: the body is too large",
        429: "Too many attempts: a page saying when to try again (`Retry-After`)",
    }
)


def html_page(
    description: str,
    *,
    errors: Mapping[int, str] = {},
    redirects: str | None = None,
) -> dict[str, Any]:
    """Route arguments of a page: 200 HTML, its error pages, and its redirect, if any."""
    responses = html_pages({200: description, **errors})
    if redirects:
        responses.update(redirect(redirects))
    return {"response_class": HTMLResponse, "responses": responses}


def form_post(
    redirects: str | None,
    *,
    pages: Mapping[int, str] = {},
    fields: Mapping[str, dict[str, Any]] = {},
    path_parameters: Iterable[str] = (),
) -> dict[str, Any]:
    """Route arguments of an HTML form's POST: 303 when done (so that a reload never posts
    again), else a page. `fields` documents the urlencoded body (all with `csrf_token`);
    `path_parameters`, those the handler reads from the request rather than its signature."""
    properties = {"csrf_token": {"type": "string"}, **fields}
    body = {"type": "object", "properties": properties, "required": ["csrf_token"]}
    content = {"application/x-www-form-urlencoded": {"schema": body}}
    route: dict[str, Any] = {
        "responses": {**FORM_PAGE_ERRORS, **html_pages(pages)},
        "openapi_extra": {"requestBody": {"required": True, "content": content}},
    }
    if path_parameters:
        route["openapi_extra"]["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in path_parameters
        ]
    if redirects is None:
        return {**route, "response_class": HTMLResponse}
    route["responses"].update(redirect(redirects))
    # No body on the 303: nothing to document but `Location`.
    return {**route, "status_code": 303, "response_class": Response}


def query_parameters(names: Iterable[str], *, required: Iterable[str] = ()) -> dict[str, Any]:
    """`openapi_extra` for string query parameters a handler reads from the request itself."""
    needed = set(required)
    parameters = [
        {"name": name, "in": "query", "required": name in needed, "schema": {"type": "string"}}
        for name in names
    ]
    return {"parameters": parameters}


def redirect_only(description: str) -> dict[str, Any]:
    """Route arguments of an operation that always redirects (303)."""
    return {"status_code": 303, "response_class": Response, "responses": redirect(description)}


def _header(description: str, *, format_: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if format_:
        schema["format"] = format_
    return {"description": description, "schema": schema}


def install_openapi(
    app: FastAPI,
    *,
    security_schemes: Mapping[str, dict[str, Any]] = {},
    paths: Mapping[str, dict[str, Any]] = {},
    models: Iterable[type[BaseModel]] = (),
    invalid_request_for_validation: bool = True,
) -> None:
    """Build `app`'s document once, with these additions (see the module docstring)."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        if security_schemes:
            components["securitySchemes"] = dict(security_schemes)
        schema["paths"].update(paths)
        add_models(components.setdefault("schemas", {}), [ErrorResponse, *models])
        if invalid_request_for_validation:
            _validation_as_invalid_request(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_models(schemas: dict[str, Any], models: Iterable[type[BaseModel]]) -> None:
    """Put `models` (and the models they use) into `components/schemas`."""
    for model in models:
        document = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(document.pop("$defs", {}))
        schemas[model.__name__] = document


def _validation_as_invalid_request(schema: dict[str, Any]) -> None:
    """FastAPI documents `422 Validation Error` for every operation with parameters; the
    shared handler answers such input with RFC 6749 §5.2 `invalid_request` and 400."""
    invalid_request = {
        "description": "invalid_request: a parameter is missing or malformed",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    for item in schema["paths"].values():
        for operation in item.values():
            responses = operation.get("responses", {})
            if _is_fastapi_validation(responses.get("422")):
                del responses["422"]
                if _can_fail_validation(operation):
                    responses.setdefault("400", invalid_request)
    models = schema.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_MODELS:
        models.pop(name, None)


def _can_fail_validation(operation: dict[str, Any]) -> bool:
    """Whether FastAPI may refuse the input: FastAPI adds its 422 to every operation with a
    parameter, even one no value can fail (an optional string, a path segment)."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        options = schema.get("anyOf", [schema])
        lenient = all(_is_plain(option) for option in options)
        if not lenient or (parameter.get("required") and parameter["in"] != "path"):
            return True
    body = operation.get("requestBody", {}).get("content", {})
    return any("/Body_" in str(media.get("schema", {})) for media in body.values())


def _is_plain(schema: dict[str, Any]) -> bool:
    """A string (or null) schema without constraints."""
    kind = schema.get("type")
    return kind == "null" or (kind == "string" and not _CONSTRAINTS & schema.keys())


def _is_fastapi_validation(response: dict[str, Any] | None) -> bool:
    if response is None:
        return False
    content = response.get("content", {}).get("application/json", {})
    return bool(content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"))
