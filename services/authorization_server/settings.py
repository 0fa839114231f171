"""Authorization server settings (environment prefix `AS_`)."""

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.authorization_server.key_encryption import decode_kek
from shared.settings import SECRET_MIN_LENGTH, BaseServiceSettings


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AS_", extra="ignore")
    production_secrets: ClassVar[dict[str, int]] = {
        "secret_key": SECRET_MIN_LENGTH,
        "key_encryption_keys": 0,  # each one is checked to be 32 bytes below
    }

    issuer: str = "http://127.0.0.1:8000"
    """Public base URL: what browsers see and the `iss` of every token (RFC 8414 §2)."""
    database_url: str = "sqlite:///./data/authorization_server.db"
    secret_key: SecretStr = SecretStr("change-me-dev-secret-key")
    """Signs session cookies and CSRF tokens."""
    key_encryption_keys: dict[str, SecretStr] = Field(default_factory=dict)
    """KEK id -> base64 of 32 random bytes (JSON): encrypt signing keys at rest (AES-GCM).
    Required in production; keep old ids until `dropletbook-as rotate-kek` has run."""
    key_encryption_key_id: str | None = None
    """The KEK in `key_encryption_keys` that new and re-encrypted signing keys use."""
    resource_audience: str = "http://127.0.0.1:8001"
    """The `aud` of access tokens: the resource server's identifier."""

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

    password_hash_time_cost: int = Field(default=2, ge=1)
    password_hash_memory_kib: int = Field(default=19456, ge=8)
    max_body_bytes: int = Field(default=16 * 1024, ge=1024)
    secure_cookies: bool = False
    """`Secure` cookies with `__Host-` names in development (behind HTTPS); always outside it."""

    demo_user_email: str = "demo@example.com"
    demo_user_password: SecretStr = SecretStr("demo-password")

    @field_validator("key_encryption_keys")
    @classmethod
    def _keys_are_32_bytes(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for kek_id, key in value.items():
            if not kek_id.strip():
                raise ValueError("key encryption key ids must not be empty")
            try:
                decode_kek(key.get_secret_value())
            except ValueError as exc:
                raise ValueError(f"key {kek_id!r} {exc}") from None
        return value

    @model_validator(mode="after")
    def _current_kek_is_configured(self) -> "Settings":
        if self.key_encryption_keys and self.key_encryption_key_id is None:
            if len(self.key_encryption_keys) > 1:
                raise ValueError("AS_KEY_ENCRYPTION_KEY_ID must name the current key")
            (self.key_encryption_key_id,) = self.key_encryption_keys
        if self.key_encryption_key_id not in (None, *self.key_encryption_keys):
            raise ValueError("AS_KEY_ENCRYPTION_KEY_ID is not in AS_KEY_ENCRYPTION_KEYS")
        return self

    @field_validator("issuer", "resource_audience")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
