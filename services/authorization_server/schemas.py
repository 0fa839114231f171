"""Wire schemas: what the JSON endpoints return, for responses and the OpenAPI document."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.openapi import Responses, json_errors

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "clientBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "client_secret_basic: client id and secret",
    },
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}
# OpenAPI has no scheme for credentials in a form body: `{}` (no header) stands for
# client_secret_post (`client_id` and `client_secret` in the form) and, where public clients
# are served, `client_id` alone (`none`), as the operation's description says.
CLIENT_SECURITY: dict[str, Any] = {"security": [{"clientBasic": []}, {}]}
CLIENT_SECURITY_TEXT = (
    " Client authentication: HTTP Basic (`client_secret_basic`), or `client_id` and"
    " `client_secret` in the form (`client_secret_post`)"
)


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


class RevokedClientEntry(BaseModel):
    """A deleted client: its access tokens with `iat` <= `revoked_at` are revoked until `exp`;
    a rotated secret: its client-credentials tokens (`sub` = `client_id`) with `iat` <=
    `client_credentials_revoked_at` (0 when the secret was never rotated)."""

    client_id: str
    revoked_at: int
    exp: int
    client_credentials_revoked_at: int = 0


class RevokedTokenFeed(BaseModel):
    """Revoked access tokens that have not expired yet: a full snapshot each time."""

    revoked: list[RevokedToken]
    revoked_clients: list[RevokedClientEntry]
    generated_at: int


ERROR_RESPONSES: Responses = json_errors(
    {
        400: "RFC 6749 §5.2 error",
        401: "invalid_client: client authentication failed (Basic challenge if Basic was used)",
        413: "invalid_request: the body is too large",
        429: "invalid_request: too many failed attempts (`Retry-After`)",
    }
)


def form_body(properties: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that parses its urlencoded body itself."""
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


class ClientRegistrationRequest(BaseModel):
    """RFC 7591 §2 client metadata this server understands; other members are ignored."""

    model_config = ConfigDict(extra="ignore")
    client_name: str | None = Field(default=None, examples=["Dropletbook"])
    client_uri: str | None = Field(default=None, examples=["https://dropletbook.example"])
    redirect_uris: list[str] | None = Field(
        default=None, examples=[["https://dropletbook.example/callback"]]
    )
    grant_types: list[str] | None = Field(
        default=None, examples=[["authorization_code", "refresh_token"]]
    )
    response_types: list[str] | None = Field(default=None, examples=[["code"]])
    token_endpoint_auth_method: str | None = Field(
        default=None,
        description="client_secret_basic (default) or client_secret_post: confidential; "
        "none: public (PKCE)",
        examples=["client_secret_basic"],
    )
    scope: str | None = Field(default=None, examples=["read write"])
    # OpenID Connect Dynamic Client Registration 1.0 §2, RP-Initiated Logout 1.0 §3.1
    id_token_signed_response_alg: str | None = Field(default=None, examples=["RS256"])
    userinfo_signed_response_alg: str | None = Field(default=None, examples=["ES256"])
    post_logout_redirect_uris: list[str] | None = Field(
        default=None, examples=[["https://dropletbook.example/signed-out"]]
    )
    subject_type: str | None = Field(default=None, examples=["public"])
    default_max_age: int | None = Field(default=None, examples=[3600])
    require_auth_time: bool | None = None


class ClientRegistrationResponse(BaseModel):
    """RFC 7591 §3.2.1: the client's credentials and its registered metadata."""

    client_id: str
    client_secret: str | None = None
    client_id_issued_at: int
    client_secret_expires_at: int | None = Field(
        default=None, description="0: the secret does not expire (present with a secret)"
    )
    client_name: str
    client_uri: str | None = None
    redirect_uris: list[str]
    grant_types: list[str]
    response_types: list[str]
    token_endpoint_auth_method: str
    scope: str
    id_token_signed_response_alg: str
    userinfo_signed_response_alg: str | None = None
    post_logout_redirect_uris: list[str]
    subject_type: str
    default_max_age: int | None = None
    require_auth_time: bool


class AppRegistration(BaseModel):
    """The calling app's own registration, as `/v1/apps/self` shows it (never its secret)."""

    client_id: str
    client_name: str
    client_uri: str
    description: str
    redirect_uris: list[str]
    grant_types: list[str]
    scope: str
    client_type: str


class AppSelfUpdate(BaseModel):
    """What an app may change about itself with a `write` client-credentials token."""

    model_config = ConfigDict(extra="forbid")
    description: str | None = None
    redirect_uris: list[str] | None = None
