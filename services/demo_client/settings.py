"""Demo client settings (environment prefix `CLIENT_`).

Public URLs are what the browser sees; internal URLs are what this process calls over the
back channel (the same on localhost, service names on a compose network).
"""

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import SECRET_MIN_LENGTH, BaseServiceSettings


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLIENT_", extra="ignore")
    production_secrets: ClassVar[dict[str, int]] = dict.fromkeys(
        (
            "client_secret",
            "trusted_client_secret",
            "service_client_secret",
            "session_encryption_key",
        ),
        SECRET_MIN_LENGTH,
    )

    public_url: str = "http://127.0.0.1:8080"
    """Where the browser reaches Dropletbook; redirect URIs are built from it."""
    issuer: str = "http://127.0.0.1:8000"
    """The authorization server's public URL: the browser is sent there, and `iss` must match."""
    as_internal_url: str = ""
    """Back-channel base URL of the authorization server; empty means `issuer`."""
    rs_url: str = "http://127.0.0.1:8001"
    """The resource server's public URL, shown to the learner."""
    rs_internal_url: str = ""
    """Back-channel base URL of the resource server; empty means `rs_url`."""
    database_url: str = "sqlite:///./data/demo_client.db"

    client_id: str = "dropletbook"
    """The confidential client of the authorization code flow."""
    client_secret: SecretStr = SecretStr("dropletbook-demo-secret")
    implicit_client_id: str = "dropletbook-implicit"
    """The public client registered for `response_type=token`."""
    trusted_client_id: str = "dropletbook-trusted"
    """The first-party client allowed the password grant."""
    trusted_client_secret: SecretStr = SecretStr("dropletbook-trusted-demo-secret")
    service_client_id: str = "dropletbook-service"
    """The client that acts on its own account (client credentials)."""
    service_client_secret: SecretStr = SecretStr("dropletbook-service-demo-secret")

    demo_user_email: str = "demo@example.com"
    """Shown as a hint on the password page; never used to log in by itself."""
    http_timeout: float = 10.0
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    """Largest request body accepted (413 beyond it): the pages post small forms."""
    session_ttl: int = 12 * 3600
    secure_cookies: bool = False
    """`Secure` cookies with `__Host-` names in development (behind HTTPS); always outside it."""
    session_encryption_key: SecretStr = SecretStr("change-me-dropletbook-session-key")
    """Seals the tokens in the session table (AES-GCM) and signs CSRF tokens; changing it
    ends every session. Required outside development."""
    session_purge_interval: float = Field(default=600.0, gt=0)
    """Seconds between purges of expired sessions (and their inspector data)."""

    @field_validator("public_url", "issuer", "as_internal_url", "rs_url", "rs_internal_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _default_internal_urls(self) -> "Settings":
        self.as_internal_url = self.as_internal_url or self.issuer
        self.rs_internal_url = self.rs_internal_url or self.rs_url
        return self

    def production_problems(self) -> list[str]:
        return super().production_problems() + self.https_problems("public_url", "issuer", "rs_url")

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/callback"

    @property
    def implicit_redirect_uri(self) -> str:
        return f"{self.public_url}/implicit/callback"

    @property
    def signin_redirect_uri(self) -> str:
        """Sign in with Droplet Cloud (OpenID Connect) comes back here."""
        return f"{self.public_url}/signin/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        """Where Droplet Cloud sends the browser after signing out (RP-Initiated Logout)."""
        return f"{self.public_url}/signout/done"
