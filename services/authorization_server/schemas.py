"""Wire schemas: what the JSON endpoints return, for responses and the OpenAPI document."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class UserInfo(BaseModel):
    name: str
    email: str
    uuid: str


class TokenResponse(BaseModel):
    """RFC 6749 §5.1, plus the tutorial's `info` for tokens a user authorized."""

    access_token: str
    token_type: str = Field(examples=["bearer"])
    expires_in: int
    scope: str
    refresh_token: str | None = None
    info: UserInfo | None = None


class ErrorResponse(BaseModel):
    """RFC 6749 §5.2."""

    error: str = Field(examples=["invalid_request"])
    error_description: str | None = None


class IntrospectionResponse(BaseModel):
    """RFC 7662 §2.2; only `active` when the token is not active."""

    model_config = ConfigDict(extra="allow")
    active: bool
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    token_type: str | None = None
    exp: int | None = None
    iat: int | None = None
    iss: str | None = None
    aud: str | None = None
    jti: str | None = None


class RevokedToken(BaseModel):
    jti: str
    exp: int


class RevokedTokenFeed(BaseModel):
    """Revoked access tokens that have not expired yet: a full snapshot each time."""

    revoked: list[RevokedToken]
    generated_at: int


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "RFC 6749 §5.2 error"},
    401: {"model": ErrorResponse, "description": "Client authentication failed"},
}


def form_body(properties: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that parses its urlencoded body itself."""
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }
