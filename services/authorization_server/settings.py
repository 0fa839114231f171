"""Authorization server settings (environment prefix `AS_`)."""

from typing import ClassVar

from limits import parse
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.authorization_server.key_encryption import decode_kek
from services.authorization_server.resources import is_resource_uri
from shared.settings import SECRET_MIN_LENGTH, BaseServiceSettings, weak_key, weak_secret


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
    """The `aud` of access tokens: the resource server's identifier (RFC 8707 resource),
    the default when a token request names no `resource`."""
    apps_api_resource: str = ""
    """The resource identifier and `aud` of this server's own API (`/v1/apps/self`), which
    clients name with RFC 8707 `resource`; empty means `{issuer}/v1/apps`, its base URI."""

    signing_algorithm: str = "ES256"
    access_token_ttl: int = Field(default=3600, ge=30, le=86400)
    refresh_token_ttl: int = Field(default=30 * 86400, ge=60)
    refresh_token_reuse_grace: int = Field(default=10, ge=0, le=300)
    """Seconds after a rotation in which the same client presenting the just-rotated refresh
    token gets the same successor again (concurrent refreshes, retries); 0 turns it off and
    any reuse revokes the grant. Past the window, reuse revokes the grant. Confidential
    clients only: a public client proves nothing but possession of the token."""
    public_client_refresh_reuse_grace: int = Field(default=0, ge=0, le=300)
    """The same window for public clients (`none` authentication); 0, the default, gives
    them none: anyone replaying a public client's rotated token would get its successor."""
    authorization_code_ttl: int = Field(default=600, ge=10, le=600)
    session_ttl: int = Field(default=12 * 3600, ge=60)
    key_activation_delay: int = Field(default=3600, ge=0)
    """Seconds a rotated-in key is published in the JWKS before it starts signing."""
    key_cache_ttl: float = Field(default=30.0, gt=0)
    """How often a process rereads signing keys from the database (replicas, rotation)."""
    client_cache_ttl: float = Field(default=5.0, ge=0)
    """How long a process trusts a cached client registration on the token endpoint."""
    db_pool_size: int = Field(default=10, ge=0, le=1000)
    """Database connections each process keeps for its request paths (the async engine);
    0 keeps none (a new connection per transaction, behind an external pooler)."""

    scopes: dict[str, str] = Field(default_factory=lambda: {"read": "Read", "write": "Write"})
    """Supported scopes and the label the consent page shows for each."""
    default_scope: str = "read"

    registration_access_token: SecretStr | None = None
    """Initial access token for RFC 7591 registration; unset and not open means no registration."""
    open_registration: bool = False
    max_apps_per_user: int = Field(default=25, ge=1)
    """Applications one user may register in the developer portal."""
    revocation_feed_clients: list[str] = Field(default_factory=list)
    """Client ids allowed to read the revoked-token feed (resource servers)."""
    introspection_clients: list[str] = Field(default_factory=list)
    """Client ids (resource servers) that may introspect any client's tokens; every other
    confidential client learns only about its own tokens (RFC 7662 §4)."""

    password_hash_time_cost: int = Field(default=2, ge=1)
    password_hash_memory_kib: int = Field(default=19456, ge=8)
    max_body_bytes: int = Field(default=16 * 1024, ge=1024)
    secure_cookies: bool = False
    """`Secure` cookies with `__Host-` names in development (behind HTTPS); always outside it."""

    redis_url: str | None = None
    """`redis://host:port/db`: throttling counters shared by every replica. Unset: in memory,
    per process (a single replica only)."""
    redis_timeout: float = Field(default=0.5, gt=0, le=5)
    """Seconds to connect to Redis, and to wait for each answer, before giving up."""
    redis_retry_after: int = Field(default=5, ge=1, le=300)
    """After a Redis failure, seconds every check fails fast (503, this `Retry-After`) before
    Redis is tried again: a stalled Redis never holds a request (circuit breaker)."""
    throttle_key_prefix: str = "dropletbook-as"
    """Namespace of the throttling keys in Redis (deployments sharing one Redis differ)."""
    throttle_account_failures: int = Field(default=5, ge=1)
    """Wrong passwords per account from browsers it has never signed in from (and per account
    and address at the password grant) before lockouts start."""
    throttle_device_failures: int = Field(default=5, ge=1)
    """Wrong passwords from a browser the account has signed in from (its device cookie)
    before that browser alone is locked out."""
    throttle_device_cookie_ttl: int = Field(default=180 * 86400, ge=60)
    """How long a browser stays known to the account after it signed in, in seconds."""
    throttle_client_failures: int = Field(default=10, ge=1)
    """Failed client authentications per client_id and address before lockouts start (a
    correct secret always passes)."""
    throttle_ip_failures: int = Field(default=50, ge=1)
    """Failures per client address (per kind of check; IPv6 per /64) before lockouts start."""
    throttle_failure_window: int = Field(default=86400, ge=1)
    """Seconds failures are remembered (from the first one)."""
    throttle_lockout_base: int = Field(default=60, ge=1)
    """The first lockout, in seconds; each further failure doubles it."""
    throttle_lockout_max: int = Field(default=900, ge=1)
    """The longest lockout, in seconds."""
    throttle_signup_ip_rate: str = "5/15 minutes"
    """Sign-up attempts per client address (every attempt counts), in `limits` notation."""
    throttle_signup_email_rate: str = "2/15 minutes"
    """Sign-ups (so mails) per email address."""
    throttle_registration_ip_rate: str = "10/15 minutes"
    """Open RFC 7591 registrations (no initial access token) per client address."""
    throttle_registration_token_rate: str = "100/minute"  # noqa: S105 (a rate)
    """RFC 7591 registrations per initial access token (from any address)."""

    signup_link_ttl: int = Field(default=86400, ge=60)
    """How long a sign-up's email verification link works, in seconds."""
    smtp_host: str | None = None
    """SMTP server for verification mail; required in production. Unset in development: the
    mail is written to the log."""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Droplet Cloud <no-reply@localhost>"

    demo_user_email: str = "demo@example.com"
    demo_user_password: SecretStr = SecretStr("demo-password")

    @field_validator(
        "throttle_signup_ip_rate",
        "throttle_signup_email_rate",
        "throttle_registration_ip_rate",
        "throttle_registration_token_rate",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        parse(value)  # ValueError on anything `limits` cannot read, such as "10 per fortnight"
        return value

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

    @model_validator(mode="after")
    def _keys_published_before_they_sign(self) -> "Settings":
        """A rotated key reaches JWKS readers within 2 x key_cache_ttl (this process's key
        cache, then the JWKS max-age); it must not sign before. 0 signs at once (emergency)."""
        if 0 < self.key_activation_delay < 2 * self.key_cache_ttl:
            raise ValueError("AS_KEY_ACTIVATION_DELAY must be 0 or at least twice AS_KEY_CACHE_TTL")
        return self

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        problems += self.https_problems("issuer", "resource_audience", "apps_api_resource")
        for kek_id, key in self.key_encryption_keys.items():
            weak = weak_key(decode_kek(key.get_secret_value()))
            if weak:
                problems.append(f"AS_KEY_ENCRYPTION_KEYS key {kek_id!r} {weak}")
        token = self.registration_access_token
        if token is not None:  # an initial access token is a bearer credential: unguessable
            value = token.get_secret_value()
            weak = (
                f"must have at least {SECRET_MIN_LENGTH} characters"
                if len(value) < SECRET_MIN_LENGTH
                else weak_secret(value)
            )
            if weak:
                problems.append(f"AS_REGISTRATION_ACCESS_TOKEN {weak}")
        if not self.smtp_host:  # sign-up is finished by a mailed link
            problems.append("AS_SMTP_HOST must be set (sign-up mails a confirmation link)")
        return problems

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
