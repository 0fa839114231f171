"""Resource server settings (environment prefix `RS_`)."""

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.jwt import SUPPORTED_ALGORITHMS
from shared.settings import SECRET_MIN_LENGTH, BaseServiceSettings


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RS_", extra="ignore")
    production_secrets: ClassVar[dict[str, int]] = {"feed_client_secret": SECRET_MIN_LENGTH}

    issuer: str = "http://127.0.0.1:8000"
    """The authorization server's issuer: the expected `iss`, and where discovery starts."""
    internal_issuer_url: str | None = None
    """Base URL to fetch metadata, JWKS and the revocation feed from (e.g. inside compose)."""
    audience: str = "http://127.0.0.1:8001"
    """This server's identifier: the `aud` every accepted token must carry."""
    database_url: str = "sqlite:///./data/resource_server.db"
    realm: str = "dropletbook"
    """The `realm` of every Bearer challenge (RFC 6750 §3)."""

    algorithms: tuple[str, ...] = SUPPORTED_ALGORITHMS
    """Asymmetric algorithms accepted; a key must also declare its own `alg`."""
    leeway: int = Field(default=10, ge=0, le=300)
    """Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds."""
    jwks_refetch_min_interval: float = Field(default=10.0, ge=0)
    """Least time between two JWKS fetches caused by unknown key ids."""
    jwks_refresh_interval: float = Field(default=300.0, gt=0)
    """How often the JWKS is refetched in the background (new keys are published early)."""
    revocation_poll_interval: float = Field(default=5.0, gt=0)
    """How often the revoked-token feed is read: the longest a revoked token still works."""
    max_revocation_age: float | None = Field(default=None, gt=0)
    """Opt-in: refuse tokens (503) while the revocation list is older than this (seconds)."""
    feed_client_id: str | None = None
    """Client id this server uses to read the revocation feed (client_secret_basic)."""
    feed_client_secret: SecretStr | None = None
    http_timeout: float = Field(default=5.0, gt=0)
    max_body_bytes: int = Field(default=16 * 1024, ge=1024)
    """Largest request body accepted (413 beyond it); a droplet takes a few hundred bytes."""

    token_cache_size: int = Field(default=10_000, ge=0)
    """Verified tokens remembered (claims only; exp, revocation and key are rechecked)."""
    account_cache_ttl: float = Field(default=10.0, ge=0)
    default_droplet_limit: int = Field(default=25, ge=0, le=10_000)

    @field_validator("issuer", "audience", "internal_issuer_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unsupported = [name for name in value if name not in SUPPORTED_ALGORITHMS]
        if unsupported or not value:
            raise ValueError(f"algorithms must be a non-empty subset of {SUPPORTED_ALGORITHMS}")
        return value

    def production_problems(self) -> list[str]:
        problems = super().production_problems() + self.https_problems("issuer", "audience")
        if not self.feed_client_id:  # without the feed a revoked token works until it expires
            problems.append("RS_FEED_CLIENT_ID must be set (it reads the revocation feed)")
        return problems

    @model_validator(mode="after")
    def _max_revocation_age_needs_the_feed(self) -> "Settings":
        """Without the feed, or with a limit inside one poll interval, every token is refused."""
        if self.max_revocation_age is None:
            return self
        if not (self.feed_client_id and self.feed_client_secret):
            raise ValueError("RS_MAX_REVOCATION_AGE needs RS_FEED_CLIENT_ID and _SECRET")
        if self.max_revocation_age <= self.revocation_poll_interval:
            raise ValueError("RS_MAX_REVOCATION_AGE must exceed RS_REVOCATION_POLL_INTERVAL")
        return self
