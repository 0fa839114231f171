"""Authorization server settings (environment prefix `AS_`)."""

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.authorization_server.resources import is_resource_uri
from shared.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AS_", extra="ignore")

    issuer: str = "http://127.0.0.1:8000"
    """Public base URL: what browsers see and the `iss` of every token (RFC 8414 §2)."""
    database_url: str = "sqlite:///./data/authorization_server.db"
    secret_key: SecretStr = SecretStr("change-me-dev-secret-key")
    """Signs session cookies and CSRF tokens."""
    resource_audience: str = "http://127.0.0.1:8001"
    """The `aud` of access tokens: the resource server's identifier (RFC 8707 resource),
    the default when a token request names no `resource`."""
    apps_api_resource: str = ""
    """The resource identifier and `aud` of this server's own API (`/v1/apps/self`), which
    clients name with RFC 8707 `resource`; empty means `{issuer}/v1/apps`, its base URI."""

    signing_algorithm: str = "ES256"
    access_token_ttl: int = Field(default=3600, ge=30, le=86400)
    refresh_token_ttl: int = Field(default=30 * 86400, ge=60)
    authorization_code_ttl: int = Field(default=600, ge=10, le=600)
    session_ttl: int = Field(default=12 * 3600, ge=60)
    key_activation_delay: int = Field(default=3600, ge=0)
    """Seconds a rotated-in key is published in the JWKS before it starts signing."""
    key_cache_ttl: float = Field(default=30.0, gt=0)
    """How often a process rereads signing keys from the database (replicas, rotation)."""
    client_cache_ttl: float = Field(default=5.0, ge=0)
    """How long a process trusts a cached client registration on the token endpoint."""

    scopes: dict[str, str] = Field(default_factory=lambda: {"read": "Read", "write": "Write"})
    """Supported scopes and the label the consent page shows for each."""
    default_scope: str = "read"

    registration_access_token: SecretStr | None = None
    """Initial access token for RFC 7591 registration; unset and not open means no registration."""
    open_registration: bool = False
    revocation_feed_clients: list[str] = Field(default_factory=list)
    """Client ids allowed to read the revoked-token feed (resource servers)."""
    introspection_clients: list[str] = Field(default_factory=list)
    """Client ids (resource servers) that may introspect any client's tokens; every other
    confidential client learns only about its own tokens (RFC 7662 §4)."""

    password_hash_time_cost: int = Field(default=2, ge=1)
    password_hash_memory_kib: int = Field(default=19456, ge=8)
    max_body_bytes: int = Field(default=16 * 1024, ge=1024)
    secure_cookies: bool = False
    """Set in production behind HTTPS: adds `Secure` to cookies."""

    demo_user_email: str = "demo@example.com"
    demo_user_password: SecretStr = SecretStr("demo-password")

    @field_validator("issuer", "resource_audience", "apps_api_resource")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _distinct_resources(self) -> "Settings":
        """Derive the API's identifier; two resources with one audience would let a token
        for the one be used at the other, which is what the distinct audience prevents."""
        self.apps_api_resource = self.apps_api_resource or f"{self.issuer}/v1/apps"
        for value in (self.resource_audience, self.apps_api_resource):
            if not is_resource_uri(value):
                raise ValueError(f"{value!r} is not an absolute URI without a fragment")
        if self.apps_api_resource == self.resource_audience:
            raise ValueError("AS_APPS_API_RESOURCE must differ from AS_RESOURCE_AUDIENCE")
        return self
