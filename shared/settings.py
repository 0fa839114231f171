"""Settings shared by every service: environment, logging, and the production secret rules.

The posture fails closed: `development` must be chosen explicitly, anything else is production.
In production each service refuses to start while a secret it lists in `production_secrets`
is unset, equal to its shipped default, a `change-me` placeholder, or shorter than listed;
cookies are always `Secure` there.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_PREFIX = "change-me"
DEVELOPMENT = "development"
SECRET_MIN_LENGTH = 32
"""Least length of a production secret (the server's own random secrets have 43 characters)."""


class BaseServiceSettings(BaseSettings):
    # Validation errors must never echo their input: it holds the secrets.
    model_config = SettingsConfigDict(extra="ignore", env_file=None, hide_input_in_errors=True)

    production_secrets: ClassVar[Mapping[str, int]] = {}
    """Secret field -> least length, checked in production (0: no length rule, e.g. a mapping)."""

    environment: str = "production"
    """`development` for the demo and the tests; any other value means production."""
    log_level: str = "INFO"
    opentelemetry: bool = False
    """FastAPI's OpenTelemetry instrumentation of every request (`shared.telemetry`)."""

    @field_validator("environment")
    @classmethod
    def _normalize_environment(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def is_development(self) -> bool:
        return self.environment == DEVELOPMENT

    @classmethod
    def env_name(cls, field: str) -> str:
        return env_name(cls, field)

    @model_validator(mode="after")
    def _production_posture(self) -> "BaseServiceSettings":
        """Development defaults are fine for the demo, never for production."""
        if self.is_development:
            return self
        problems = [f"{self.env_name(name)} {problem}" for name, problem in _secret_problems(self)]
        if problems:
            posture = f"{self.env_name('environment')}={self.environment}"
            raise ValueError(
                "; ".join(problems) + f" ({posture}: only {DEVELOPMENT} allows demo secrets)"
            )
        if "secure_cookies" in type(self).model_fields:  # the services that set cookies
            setattr(self, "secure_cookies", True)  # noqa: B010  (outside development, always)
        return self


def _secret_problems(settings: BaseServiceSettings) -> list[tuple[str, str]]:
    """Each listed secret that fails its rule, and any other secret left as a placeholder."""
    found = []
    fields = type(settings).model_fields
    for name, min_length in settings.production_secrets.items():
        default = fields[name].get_default(call_default_factory=True)
        problem = _problem(getattr(settings, name), default, min_length)
        if problem is not None:
            found.append((name, problem))
    for name, value in settings:
        placeholder = isinstance(value, SecretStr) and value.get_secret_value().startswith(
            PLACEHOLDER_PREFIX
        )
        if placeholder and name not in settings.production_secrets:
            found.append((name, "still has its placeholder value"))
    return found


def _problem(value: Any, default: Any, min_length: int) -> str | None:
    if value is None or value == {} or value == "":
        return "must be set"
    if value == default:
        return "still has its shipped default value"
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        if secret.startswith(PLACEHOLDER_PREFIX):
            return "still has its placeholder value"
        if len(secret) < min_length:
            return f"must have at least {min_length} characters"
    return None


def env_name(settings_class: type[BaseSettings], field: str) -> str:
    """The environment variable of a field, e.g. `AS_SECRET_KEY`."""
    return f"{settings_class.model_config.get('env_prefix', '')}{field}".upper()


def settings_error_message(exc: ValidationError, settings_class: type[BaseSettings]) -> str:
    """One line naming each offending environment variable, without its value."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        field = str(error["loc"][0]) if error["loc"] else ""
        parts.append(f"{env_name(settings_class, field)}: {message}" if field else message)
    return "; ".join(parts)
