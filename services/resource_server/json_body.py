"""Request bodies as JSON, read only after the route's token was accepted.

FastAPI reads a declared body parameter before it runs any dependency, so a request
without a token had its body read (and its JSON judged) before the 401. Routes here take
their body from `json_body(model, claims)` instead: a dependency on the route's
`require_scope`, which therefore runs first. Size is capped by `BodyLimitMiddleware`.
"""

import json
from typing import Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from services.resource_server.verifier import AccessTokenClaims
from shared.errors import InvalidRequestError

_Model = TypeVar("_Model", bound=BaseModel)


async def read_json(request: Request, model: type[_Model]) -> _Model:
    """The body as `model`; malformed JSON or invalid values are `invalid_request`."""
    media_type = request.headers.get("content-type", "application/json").split(";", 1)[0]
    media_type = media_type.strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise InvalidRequestError("content type must be application/json")
    body = await request.body()
    if not body.strip():
        raise InvalidRequestError("request body is required")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # bad JSON or UTF-8; absurd nesting
        raise InvalidRequestError("request body is not valid JSON") from None
    try:
        return model.model_validate(value)
    except ValidationError as exc:  # rendered like FastAPI's own body errors, under "body"
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from None


def json_body(model: type[_Model], claims: Any) -> Any:
    """A dependency giving the body as `model`, after `claims` (a `require_scope(...)`)."""

    async def dependency(request: Request, _: AccessTokenClaims = claims) -> _Model:
        return await read_json(request, model)

    return Depends(dependency)


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting the JSON body a route reads itself."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }
