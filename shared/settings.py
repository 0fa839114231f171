"""Settings shared by every service: environment, logging, and the placeholder-secret guard.

The posture fails closed: `development` must be chosen explicitly, anything else is production.
"""

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_PREFIX = "change-me"
DEVELOPMENT = "development"


class BaseServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    environment: str = "production"
    """`development` for the demo and the tests; any other value means production."""
    log_level: str = "INFO"

    @field_validator("environment")
    @classmethod
    def _normalize_environment(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def is_development(self) -> bool:
        return self.environment == DEVELOPMENT

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "BaseServiceSettings":
        """Development defaults are fine for the demo, never for production."""
        if not self.is_development:
            for name, value in self:
                if isinstance(value, SecretStr) and value.get_secret_value().startswith(
                    PLACEHOLDER_PREFIX
                ):
                    raise ValueError(f"{name} still has its placeholder value")
        return self
